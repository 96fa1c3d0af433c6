using CSRedis;
using Microsoft.Extensions.Options;
using WorkspaceOperator.Configuration;

namespace WorkspaceOperator.Routes;

/// <summary>
/// <see cref="IRoutePublisher"/> on CSRedisCore (StackExchange.Redis does not restore here). Calls are
/// bounded by our own timeout: against a hung server the client waits far longer (../shared/PACKAGES.md),
/// and a reconcile that fails is retried with backoff anyway.
/// </summary>
internal sealed partial class RedisRoutePublisher : IRoutePublisher, IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);

    private readonly RoutesOptions _options;
    private readonly ILogger<RedisRoutePublisher> _logger;
    private readonly Lazy<CSRedisClient> _client;

    public RedisRoutePublisher(IOptions<OperatorOptions> options, ILogger<RedisRoutePublisher> logger)
    {
        _options = options.Value.Routes;
        _logger = logger;
        var configuration = _options.Redis;
        _client = new(() => new CSRedisClient(configuration));
    }

    public async Task EnsureRouteAsync(string sid, string address, CancellationToken cancellationToken)
    {
        var client = _client.Value;
        var current = await Bounded(client.HGetAsync(_options.HashKey, sid), cancellationToken);
        if (current == address)
        {
            return;
        }

        await Bounded(client.HSetAsync(_options.HashKey, sid, address), cancellationToken);
        await PublishAsync(client, sid, cancellationToken);
        LogPublished(sid, address, current);
    }

    public async Task RemoveRouteAsync(string sid, CancellationToken cancellationToken)
    {
        var client = _client.Value;
        var removed = await Bounded(client.HDelAsync(_options.HashKey, sid), cancellationToken);
        if (removed == 0)
        {
            return;
        }

        await PublishAsync(client, sid, cancellationToken);
        LogRemoved(sid);
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    // The bare sid, as the gateway and the old system's writers expect: CSRedisCore's Publish would
    // prefix a message id.
    private Task<long> PublishAsync(CSRedisClient client, string sid, CancellationToken cancellationToken) =>
        Bounded(client.PublishNoneMessageIdAsync(_options.InvalidationChannel, sid), cancellationToken);

    private static Task<T> Bounded<T>(Task<T> call, CancellationToken cancellationToken) =>
        call.WaitAsync(CallTimeout, cancellationToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Route of {Sid} published: {Address} (was {Previous})")]
    private partial void LogPublished(string sid, string address, string? previous);

    [LoggerMessage(Level = LogLevel.Information, Message = "Route of {Sid} removed")]
    private partial void LogRemoved(string sid);
}
