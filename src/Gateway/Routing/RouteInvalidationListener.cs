using CSRedis;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// Subscribes to the invalidation channel. A message is a sid (drop it) or <c>*</c> (drop everything).
/// Redis forgets messages published while we were disconnected, so every (re)connection of the
/// subscriber's socket flushes the cache: "may have missed something" is treated as "missed everything".
/// </summary>
internal sealed partial class RouteInvalidationListener : BackgroundService
{
    private readonly IRouteInvalidator _invalidator;
    private readonly WorkspacePathParser _sids;
    private readonly IOptionsMonitor<GatewayOptions> _options;
    private readonly ILogger<RouteInvalidationListener> _logger;
    private CSRedisClient? _client;
    private CSRedisClient.SubscribeObject? _subscription;

    public RouteInvalidationListener(
        IRouteInvalidator invalidator,
        WorkspacePathParser sids,
        IOptionsMonitor<GatewayOptions> options,
        ILogger<RouteInvalidationListener> logger)
    {
        _invalidator = invalidator;
        _sids = sids;
        _options = options;
        _logger = logger;
    }

    public bool IsSubscribed => _subscription is { IsUnsubscribed: false };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = _options.CurrentValue;
        var channel = options.Routes.InvalidationChannel;
        _client = RedisConnectionFactory.Create(options.Redis.Configuration);
        foreach (var node in _client.Nodes.Values)
        {
            if (node.Policy is RedisClientPoolPolicy policy)
            {
                policy.Connected += (_, _) => OnConnected();
            }
        }

        // CSRedisCore resubscribes by itself after a reconnect; only the first subscription needs retrying.
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _subscription = _client.Subscribe((channel, OnMessage));
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        _subscription?.Dispose();
        _client?.Dispose();
    }

    private void OnConnected()
    {
        LogReconnected();
        _invalidator.InvalidateAll();
    }

    private void OnMessage(CSRedisClient.SubscribeMessageEventArgs message)
    {
        var body = message.Body;
        if (body == "*")
        {
            _invalidator.InvalidateAll();
        }
        else if (body is not null && _sids.IsValidSid(body))
        {
            _invalidator.Invalidate(body);
        }
        else
        {
            LogIgnoredMessage(body);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscribed to route invalidations on {Channel}")]
    private partial void LogSubscribed(string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscribing to route invalidations on {Channel} failed; retrying")]
    private partial void LogSubscribeFailed(Exception exception, string channel);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis subscriber connected; flushing the route cache in case invalidations were missed")]
    private partial void LogReconnected();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored an invalidation message that is neither a sid nor '*': {Body}")]
    private partial void LogIgnoredMessage(string? body);
}
