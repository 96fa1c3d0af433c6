using System.Globalization;
using CSRedis;
using Gateway.Configuration;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Subscribes to the invalidation channel. A message is a sid (drop it) or <c>*</c> (drop everything).
/// </summary>
/// <remarks>
/// Redis forgets messages published while a subscriber is disconnected, and CSRedisCore reconnects
/// silently. Its pool's <c>Connected</c> event cannot tell us: it also fires every 60 s for the client's own
/// keep-alive socket while the subscription stays up (measured). So liveness is checked end to end: this
/// instance publishes a heartbeat on a private channel every <see cref="HeartbeatInterval"/>, received
/// over the same subscription connection. Heartbeats that stop arriving mean a gap in which
/// invalidations may have been lost; when they arrive again the whole cache is flushed. Not flushing at
/// the start of the gap keeps cached workspaces reachable while Redis is away.
/// </remarks>
internal sealed partial class RouteInvalidationListener : BackgroundService
{
    internal static readonly TimeSpan HeartbeatInterval = TimeSpan.FromMilliseconds(250);

    // CSRedisCore waits 3 s before reconnecting, so a real gap always loses several heartbeats.
    private static readonly TimeSpan GapThreshold = TimeSpan.FromSeconds(1);

    private readonly IRouteInvalidator _invalidator;
    private readonly IRouteChangeObserver[] _observers;
    private readonly GatewayMetrics _metrics;
    private readonly WorkspacePathParser _sids;
    private readonly IOptionsMonitor<GatewayOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<RouteInvalidationListener> _logger;
    private readonly string _heartbeatChannel;
    private readonly RedisCommandThreads _threads = new("redis-heartbeat", threads: 1, queueCapacity: 4);
    private CSRedisClient? _client;
    private CSRedisClient.SubscribeObject? _subscription;
    private long _lastHeartbeatAt;
    private volatile bool _inGap = true;

    public RouteInvalidationListener(
        IRouteInvalidator invalidator,
        IEnumerable<IRouteChangeObserver> observers,
        GatewayMetrics metrics,
        WorkspacePathParser sids,
        IOptionsMonitor<GatewayOptions> options,
        TimeProvider time,
        ILogger<RouteInvalidationListener> logger)
    {
        _invalidator = invalidator;
        _observers = [.. observers];
        _metrics = metrics;
        _sids = sids;
        _options = options;
        _time = time;
        _logger = logger;
        _heartbeatChannel = $"{options.CurrentValue.Routes.InvalidationChannel}:heartbeat:{Guid.NewGuid():N}";
    }

    /// <summary>True while heartbeats arrive over the subscription: invalidations are being received.</summary>
    public bool IsLive => !_inGap;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = _options.CurrentValue;
        var channel = options.Routes.InvalidationChannel;
        _client = RedisConnectionFactory.Create(options.Redis.Configuration);
        await SubscribeAsync(channel, stoppingToken);

        using var ticks = new PeriodicTimer(HeartbeatInterval, _time);
        long sequence = 0;
        while (await ticks.WaitForNextTickAsync(stoppingToken))
        {
            if (!_inGap && _time.GetElapsedTime(Interlocked.Read(ref _lastHeartbeatAt)) > GapThreshold)
            {
                _inGap = true;
                LogGapStarted(channel);
            }

            _ = PublishHeartbeatAsync(sequence++);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _subscription?.Dispose();
        _threads.Dispose();
        _client?.Dispose();
    }

    // CSRedisCore resubscribes by itself after a reconnect; only the first subscription needs retrying.
    private async Task SubscribeAsync(string channel, CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                _subscription = _client!.Subscribe((channel, OnMessage), (_heartbeatChannel, OnHeartbeat));
                LogSubscribed(channel);
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSubscribeFailed(ex, channel);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
            }
        }
    }

    private async Task PublishHeartbeatAsync(long sequence)
    {
        try
        {
            // Bounded: against a hung server the client would wait for its own, much longer, timeout.
            var heartbeat = sequence.ToString(CultureInfo.InvariantCulture);
            await _threads.RunAsync(() => _client!.PublishNoneMessageId(_heartbeatChannel, heartbeat)).WaitAsync(GapThreshold);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A missing heartbeat is itself the signal; the gap is logged once, not every 250 ms.
        }
    }

    private void OnHeartbeat(CSRedisClient.SubscribeMessageEventArgs message)
    {
        Interlocked.Exchange(ref _lastHeartbeatAt, _time.GetTimestamp());
        if (_inGap)
        {
            // Flushed before it says live (/readyz): a route cached by someone who waited for readiness
            // must not be flushed after the fact.
            Invalidate(sid: null);
            _metrics.InvalidationReceived("gap");
            _inGap = false;
            LogLive();
        }
    }

    private void OnMessage(CSRedisClient.SubscribeMessageEventArgs message)
    {
        var body = message.Body;
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

    /// <summary>Drops <paramref name="sid"/> (null: every route) from the cache, then tells the observers.</summary>
    private void Invalidate(string? sid)
    {
        if (sid is null)
        {
            _invalidator.InvalidateAll();
        }
        else
        {
            _invalidator.Invalidate(sid);
        }

        foreach (var observer in _observers)
        {
            observer.RoutesChanged(sid);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed to route invalidations on {Channel}")]
    private partial void LogSubscribed(string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to route invalidations on {Channel} failed; retrying")]
    private partial void LogSubscribeFailed(Exception exception, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Route invalidations on {Channel} interrupted; cached routes are served until Redis is back, then the cache is flushed")]
    private partial void LogGapStarted(string channel);

    [LoggerMessage(Level = LogLevel.Information, Message = "Route invalidations are being received; route cache flushed in case some were missed")]
    private partial void LogLive();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored an invalidation message that is neither a sid nor '*': {Body}")]
    private partial void LogIgnoredMessage(string? body);
}
