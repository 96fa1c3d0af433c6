using Contracts.Sharing;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using StackExchange.Redis;

namespace Operator.Routes;

/// <summary>
/// <see cref="IRoutePublisher"/> on the program's one multiplexer. Calls are bounded by our own timeout: a
/// reconcile that fails is retried with backoff anyway, and must not hang on a hung server.
/// </summary>
internal sealed partial class RedisRoutePublisher : IRoutePublisher, IDisposable
{
    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(3);

    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _database;
    private readonly RoutePublishingOptions _options;
    private readonly RedisChannel _channel;
    private readonly ILogger<RedisRoutePublisher> _logger;

    public RedisRoutePublisher(IConnectionMultiplexer redis, IOptions<OperatorOptions> options, ILogger<RedisRoutePublisher> logger)
    {
        _redis = redis;
        _database = redis.GetDatabase();
        _options = options.Value.Routes;
        _channel = RedisChannel.Literal(_options.InvalidationChannel);
        _logger = logger;
        redis.ConnectionRestored += OnConnectionRestored;
    }

    public event Action? StoreRestored;

    public async Task EnsureRouteAsync(string sid, string address, CancellationToken cancellationToken)
    {
        if (await EnsureFieldAsync(_options.HashKey, sid, address, cancellationToken) is { Changed: true } outcome)
        {
            LogPublished(sid, address, outcome.Previous);
        }
    }

    public async Task RemoveRouteAsync(string sid, CancellationToken cancellationToken)
    {
        if (!await _database.HashDeleteAsync(_options.HashKey, sid).WaitAsync(CallTimeout, cancellationToken))
        {
            return;
        }

        await PublishAsync(sid, cancellationToken);
        LogRemoved(sid);
    }

    public async Task EnsureSharesAsync(string sid, PortShares shares, CancellationToken cancellationToken)
    {
        var value = shares.ToString();
        if (await EnsureFieldAsync(_options.SharesHashKey, sid, value.Length == 0 ? null : value, cancellationToken) is { Changed: true } outcome)
        {
            LogSharesPublished(sid, value.Length == 0 ? "none" : value, outcome.Previous ?? "none");
        }
    }

    /// <summary>
    /// Makes field <paramref name="sid"/> of <paramref name="hashKey"/> <paramref name="value"/> (null: absent),
    /// publishing only when that changed it: a reconcile that finds everything in place costs one HGET.
    /// </summary>
    private async Task<(bool Changed, string? Previous)> EnsureFieldAsync(string hashKey, string sid, string? value, CancellationToken cancellationToken)
    {
        var current = (string?)await _database.HashGetAsync(hashKey, sid).WaitAsync(CallTimeout, cancellationToken);
        if (current == value)
        {
            return (false, current);
        }

        var written = value is null ? _database.HashDeleteAsync(hashKey, sid) : _database.HashSetAsync(hashKey, sid, value);
        await written.WaitAsync(CallTimeout, cancellationToken);
        await PublishAsync(sid, cancellationToken);
        return (true, current);
    }

    public void Dispose() => _redis.ConnectionRestored -= OnConnectionRestored;

    // The bare sid, as the gateway and the old system's writers expect.
    private Task<long> PublishAsync(string sid, CancellationToken cancellationToken) =>
        _database.PublishAsync(_channel, sid).WaitAsync(CallTimeout, cancellationToken);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType == ConnectionType.Interactive)
        {
            StoreRestored?.Invoke();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Route of {Sid} published: {Address} (was {Previous})")]
    private partial void LogPublished(string sid, string address, string? previous);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shared ports of {Sid} published: {Shares} (was {Previous})")]
    private partial void LogSharesPublished(string sid, string shares, string previous);

    [LoggerMessage(Level = LogLevel.Information, Message = "Route of {Sid} removed")]
    private partial void LogRemoved(string sid);
}
