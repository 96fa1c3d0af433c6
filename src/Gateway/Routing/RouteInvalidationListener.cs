using System.Globalization;
using Gateway.Configuration;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;
using ServiceDefaults.Redis;
using StackExchange.Redis;

namespace Gateway.Routing;

/// <summary>
/// Subscribes to the invalidation channel. A message is a sid (drop it) or <c>*</c> (drop everything).
/// </summary>
/// <remarks>
/// Redis forgets messages published while a subscriber is disconnected. The multiplexer resubscribes by
/// itself after a reconnect, and says when its subscription connection fails; from that moment until the
/// subscription is proven to work again, invalidations may have been lost. Proof is end to end: this
/// instance publishes a probe on a channel of its own every <see cref="ProbeInterval"/> until one comes back
/// over the subscription (the restored event alone does not say the SUBSCRIBE was re-sent, and after a
/// Sentinel failover the subscription can move to another server without one). Then every cached route is
/// revalidated against Redis (<see cref="IRouteInvalidator.RevalidateAsync"/>) rather than flushed: cached
/// workspaces keep answering through the gap and through a Redis that fails again during the revalidation.
/// A hung server (SIGSTOP, no failure event) loses nothing: nothing can be published to it either, and
/// what is queued for us is delivered when it resumes.
/// </remarks>
internal sealed partial class RouteInvalidationListener : BackgroundService
{
    internal static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

    // A subscription the probes still do not reach after this long, while Redis accepts the probes, is
    // subscribed again: the library's own resubscription did not happen.
    private static readonly TimeSpan ResubscribeAfter = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan RevalidationRetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly IConnectionMultiplexer _redis;
    private readonly IRouteInvalidator _cache;
    private readonly IRouteChangeObserver[] _observers;
    private readonly GatewayMetrics _metrics;
    private readonly WorkspacePathParser _sids;
    private readonly IOptionsMonitor<GatewayOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RouteInvalidationListener> _logger;
    private readonly RedisRefusals _refusals;
    private string? _lastSubscribeFailure;
    private long _lastSubscribeFailureAt;
    private long _subscribeFailuresUnsaid;
    private readonly string _channelName;
    private readonly RedisChannel _channel;
    private readonly RedisChannel _probeChannel;
    private readonly SemaphoreSlim _gapStarted = new(0, 1);
    private readonly SemaphoreSlim _probeArrived = new(0, 1);
    private long _probeSent;
    private long _probeReceived;
    private volatile bool _subscribed;
    private volatile bool _inGap = true;

    public RouteInvalidationListener(
        IConnectionMultiplexer redis,
        IRouteInvalidator cache,
        IEnumerable<IRouteChangeObserver> observers,
        GatewayMetrics metrics,
        WorkspacePathParser sids,
        IOptionsMonitor<GatewayOptions> options,
        TimeProvider time,
        RedisRefusals refusals,
        ILogger<RouteInvalidationListener> logger)
    {
        _refusals = refusals;
        _redis = redis;
        _cache = cache;
        _observers = [.. observers];
        _metrics = metrics;
        _sids = sids;
        _options = options;
        _time = time;
        _logger = logger;
        var channel = options.CurrentValue.Routes.InvalidationChannel;
        _channelName = channel;
        _channel = RedisChannel.Literal(channel);
        _probeChannel = RedisChannel.Literal($"{channel}:probe:{Guid.NewGuid():N}");
    }

    /// <summary>True once the subscription has been proven to work; it stays true through later gaps.</summary>
    public bool HasStarted => _subscribed;

    /// <summary>True while invalidations are being received (no gap since the last proof).</summary>
    public bool IsLive => !_inGap;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _redis.ConnectionFailed += OnConnectionFailed;
        try
        {
            await SubscribeAsync(stoppingToken);
            while (true)
            {
                await CloseGapAsync(stoppingToken);
                await _gapStarted.WaitAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _redis.ConnectionFailed -= OnConnectionFailed;
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Subscription || _inGap)
        {
            return;
        }

        _inGap = true;
        LogGapStarted(_channelName);
        Signal(_gapStarted);
    }

    private async Task SubscribeAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                await SubscribeChannelsAsync();
                LogSubscribed(_channelName);
                return;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                ReportSubscribeFailed(ex);
                await Task.Delay(ProbeInterval, _time, stoppingToken);
            }
        }
    }

    // A Redis that stays away fails every attempt, four a second: each new reason is said once, and the same
    // one again after a minute with the count; why Redis is away is the connection monitor's to say.
    private void ReportSubscribeFailed(Exception error)
    {
        var refusal = _refusals.Explain(error, "SUBSCRIBE " + _channelName);
        var reason = refusal ?? error.GetBaseException().Message;
        if (reason == _lastSubscribeFailure && _time.GetElapsedTime(_lastSubscribeFailureAt) < TimeSpan.FromMinutes(1))
        {
            _subscribeFailuresUnsaid++;
            return;
        }

        _lastSubscribeFailure = reason;
        _lastSubscribeFailureAt = _time.GetTimestamp();
        var unsaid = _subscribeFailuresUnsaid;
        _subscribeFailuresUnsaid = 0;
        if (refusal is not null)
        {
            LogRedisRefused(refusal);
        }
        else
        {
            LogSubscribeFailed(_channelName, reason, unsaid);
        }
    }

    // The invalidations, and our own probes over the same subscription connection.
    private async Task SubscribeChannelsAsync()
    {
        var subscriber = _redis.GetSubscriber();
        await subscriber.SubscribeAsync(_channel, OnMessage);
        await subscriber.SubscribeAsync(_probeChannel, OnProbe);
    }

    /// <summary>Probes until the subscription carries messages again, then revalidates the cache.</summary>
    private async Task CloseGapAsync(CancellationToken stoppingToken)
    {
        var gapStarted = _time.GetTimestamp();
        var lastResubscribe = gapStarted;
        var probeRefusalReported = false;
        while (true)
        {
            var sent = Interlocked.Increment(ref _probeSent);
            var published = false;
            var cycle = _time.GetTimestamp();
            try
            {
                await _redis.GetSubscriber().PublishAsync(_probeChannel, sent.ToString(CultureInfo.InvariantCulture))
                    .WaitAsync(ProbeInterval, stoppingToken);
                published = true;
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                // Redis is still away, and the next probe tries again; or Redis refuses this probe, which
                // keeps the gateway not ready until its user may publish there: said once a gap.
                if (!probeRefusalReported && _refusals.Explain(ex, "PUBLISH " + _probeChannel) is { } refusal)
                {
                    probeRefusalReported = true;
                    LogRedisRefused(refusal);
                }
            }

            if (await ProbeArrivedAsync(sent, ProbeInterval - _time.GetElapsedTime(cycle), stoppingToken))
            {
                break;
            }

            if (!published || _time.GetElapsedTime(lastResubscribe) < ResubscribeAfter)
            {
                continue;
            }

            // Redis takes our publishes but nobody (we) is subscribed to the probe channel.
            var waited = _time.GetElapsedTime(gapStarted).TotalSeconds;
            LogResubscribing(waited);
            lastResubscribe = _time.GetTimestamp();
            try
            {
                var subscriber = _redis.GetSubscriber();
                await subscriber.UnsubscribeAsync(_channel);
                await subscriber.UnsubscribeAsync(_probeChannel);
                await SubscribeChannelsAsync();
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException)
            {
                ReportSubscribeFailed(ex);
            }
        }

        var firstProof = !_subscribed;
        _subscribed = true;
        _inGap = false;

        // Also after the first proof: requests that came before it may have cached routes read before the
        // SUBSCRIBE took effect (usually none, and then this reads nothing).
        await RevalidateAsync(firstProof, stoppingToken);
        var elapsed = _time.GetElapsedTime(gapStarted).TotalMilliseconds;
        if (firstProof)
        {
            LogLive(elapsed);
        }
        else
        {
            LogGapClosed(elapsed);
        }
    }

    private async Task RevalidateAsync(bool firstProof, CancellationToken stoppingToken)
    {
        if (!firstProof)
        {
            _metrics.InvalidationReceived("gap");
        }

        while (true)
        {
            try
            {
                var changed = await _cache.RevalidateAsync(stoppingToken);
                if (!firstProof)
                {
                    LogRevalidated(changed.Count);
                }

                break;
            }
            catch (RouteStoreUnavailableException ex)
            {
                // Redis failed again: every entry keeps serving; try again (a new failure event also brings
                // us back here through the gap loop, since the proof above is repeated then).
                LogRevalidationFailed(ex.Message);
                await Task.Delay(RevalidationRetryDelay, _time, stoppingToken);
                if (_inGap)
                {
                    return;
                }
            }
        }

        // Holders of tunnels re-check theirs (the cache now answers from what Redis holds).
        foreach (var observer in _observers)
        {
            observer.RoutesChanged(sid: null);
        }
    }

    /// <summary>Waits until probe <paramref name="sent"/> (or a later one) came back, at most <paramref name="within"/>.</summary>
    private async Task<bool> ProbeArrivedAsync(long sent, TimeSpan within, CancellationToken stoppingToken)
    {
        var started = _time.GetTimestamp();
        while (Interlocked.Read(ref _probeReceived) < sent)
        {
            var left = within - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return false;
            }

            await _probeArrived.WaitAsync(left, stoppingToken);
        }

        return true;
    }

    private void OnProbe(RedisChannel channel, RedisValue message)
    {
        if (long.TryParse((string?)message, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence))
        {
            InterlockedMax(ref _probeReceived, sequence);
            Signal(_probeArrived);
        }
    }

    private void OnMessage(RedisChannel channel, RedisValue message)
    {
        var body = WithoutMessageId((string?)message);
        if (body == "*")
        {
            _metrics.InvalidationReceived("all");
            Invalidate(sid: null);
        }
        else if (body is not null && _sids.IsValidSid(body))
        {
            _metrics.InvalidationReceived("sid");
            Invalidate(body);
        }
        else
        {
            LogIgnoredMessage(body);
        }
    }

    /// <summary>
    /// CSRedisCore's <c>Publish</c> sends <c>&lt;n&gt;|&lt;message&gt;</c>; writers built on it are still
    /// understood. A sid never contains '|', so the prefix cannot be mistaken for part of one.
    /// </summary>
    private static string? WithoutMessageId(string? body)
    {
        var bar = body?.IndexOf('|', StringComparison.Ordinal) ?? -1;
        return bar > 0 && body.AsSpan(0, bar).IndexOfAnyExceptInRange('0', '9') < 0 ? body![(bar + 1)..] : body;
    }

    /// <summary>Drops <paramref name="sid"/> (null: every route) from the cache, then tells the observers.</summary>
    private void Invalidate(string? sid)
    {
        if (sid is null)
        {
            _cache.InvalidateAll();
        }
        else
        {
            _cache.Invalidate(sid);
        }

        foreach (var observer in _observers)
        {
            observer.RoutesChanged(sid);
        }
    }

    // Handlers run concurrently; a signal already pending is enough.
    private static void Signal(SemaphoreSlim signal)
    {
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
        }
    }

    private static void InterlockedMax(ref long location, long value)
    {
        var current = Interlocked.Read(ref location);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref location, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed to route invalidations on {Channel}")]
    private partial void LogSubscribed(string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to route invalidations on {Channel} failed ({Reason}); retrying every 250 ms ({Unsaid} more failures since the last line)")]
    private partial void LogSubscribeFailed(string channel, string reason, long unsaid);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Refusal}. Until it may, route invalidations are not proven to arrive and the gateway is not ready")]
    private partial void LogRedisRefused(string refusal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Route invalidations on {Channel} interrupted; cached routes are served, and revalidated once the subscription works again")]
    private partial void LogGapStarted(string channel);

    [LoggerMessage(Level = LogLevel.Information, Message = "Route invalidations are being received ({Elapsed:0} ms after subscribing)")]
    private partial void LogLive(double elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Route invalidations are being received again; cache revalidated {Elapsed:0} ms after the gap began")]
    private partial void LogGapClosed(double elapsed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Revalidated the cached routes after a gap: {Changed} changed")]
    private partial void LogRevalidated(int changed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Revalidating cached routes failed ({Reason}); they keep serving, retrying")]
    private partial void LogRevalidationFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The subscription has not carried a probe for {Seconds:0.0} s although Redis accepts them; subscribing again")]
    private partial void LogResubscribing(double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored an invalidation message that is neither a sid nor '*': {Body}")]
    private partial void LogIgnoredMessage(string? body);
}
