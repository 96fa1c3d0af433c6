using System.Diagnostics;
using Gateway.Configuration;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;
using ServiceDefaults.Redis;
using StackExchange.Redis;

namespace Gateway.Routing;

/// <summary>
/// <c>HGET hosts &lt;sid&gt;</c> and <c>HGET shares &lt;sid&gt;</c> on the program's one multiplexer, bounded by our own timeout and circuit
/// breaker: a hung Redis must cost an uncached request milliseconds, and an open breaker answers at once.
/// The breaker closes as soon as the multiplexer reconnects, so uncached workspaces are served again within
/// the reconnect interval of Redis returning, not a break duration later.
/// </summary>
internal sealed class RedisRouteStore : IRouteStore, IDisposable
{
    // A revalidation after a gap reads this many routes per HMGET.
    private const int BatchSize = 500;
    private static readonly TimeSpan BatchTimeout = TimeSpan.FromSeconds(2);

    private readonly IConnectionMultiplexer _redis;
    private readonly IDatabase _database;
    private readonly IOptionsMonitor<GatewayOptions> _options;
    private readonly ResiliencePipeline _pipeline;
    private readonly CircuitBreakerManualControl _breaker = new();
    private readonly GatewayMetrics _metrics;
    private readonly RedisRefusals _refusals;

    public RedisRouteStore(IConnectionMultiplexer redis, IOptionsMonitor<GatewayOptions> options, TimeProvider time, GatewayMetrics metrics, RedisRefusals refusals)
    {
        _redis = redis;
        _refusals = refusals;
        _database = redis.GetDatabase();
        _options = options;
        _metrics = metrics;
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(5),
                BreakDuration = options.CurrentValue.Redis.CircuitBreakDuration,
                ManualControl = _breaker,
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = _ => ValueTask.FromResult(_options.CurrentValue.Redis.LookupTimeout),
            })
            .Build();
        redis.ConnectionRestored += OnConnectionRestored;
    }

    public async Task<StoredRoute> GetAsync(string sid, RouteReadSource source, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            var routes = _options.CurrentValue.Routes;
            var flags = source == RouteReadSource.Primary ? CommandFlags.DemandMaster : CommandFlags.PreferMaster;
            var stored = await _pipeline.ExecuteAsync(
                // Both commands leave in one write and come back in one read (the multiplexer pipelines them).
                // The library's commands take no token; WaitAsync lets our timeout abandon the wait (the
                // command itself ends at the multiplexer's own, short, async timeout).
                static async (state, token) =>
                {
                    var address = state.Database.HashGetAsync(state.Routes.HashKey, state.Sid, state.Flags);
                    var shares = state.Database.HashGetAsync(state.Routes.SharesHashKey, state.Sid, state.Flags);
                    await Task.WhenAll(address, shares).WaitAsync(token);
                    return new StoredRoute(address.Result, shares.Result);
                },
                (Database: _database, Routes: routes, Sid: sid, Flags: flags),
                cancellationToken);
            _metrics.LookupCompleted(started, succeeded: true);
            return stored;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics.LookupCompleted(started, succeeded: false);
            throw Unavailable(ex, $"HGET {_options.CurrentValue.Routes.HashKey}");
        }
    }

    public async Task<StoredRoute[]> GetManyAsync(IReadOnlyList<string> sids, CancellationToken cancellationToken)
    {
        var routes = _options.CurrentValue.Routes;
        var stored = new StoredRoute[sids.Count];
        for (var offset = 0; offset < sids.Count; offset += BatchSize)
        {
            var count = Math.Min(BatchSize, sids.Count - offset);
            var fields = new RedisValue[count];
            for (var i = 0; i < count; i++)
            {
                fields[i] = sids[offset + i];
            }

            RedisValue[] addresses, shares;
            try
            {
                // Not through the breaker: a bulk read after a gap must neither trip it for the requests
                // nor be refused by it.
                var addressRead = _database.HashGetAsync(routes.HashKey, fields, CommandFlags.DemandMaster);
                var sharesRead = _database.HashGetAsync(routes.SharesHashKey, fields, CommandFlags.DemandMaster);
                await Task.WhenAll(addressRead, sharesRead).WaitAsync(BatchTimeout, cancellationToken);
                (addresses, shares) = (addressRead.Result, sharesRead.Result);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw Unavailable(ex, $"HMGET {routes.HashKey}");
            }

            for (var i = 0; i < count; i++)
            {
                stored[offset + i] = new StoredRoute(addresses[i], shares[i]);
            }
        }

        return stored;
    }

    /// <summary>
    /// One lookup before the first request needs it: the first command on a connection (and the JIT of this
    /// path) took longer than the lookup timeout and answered 503s just after a start.
    /// </summary>
    public async Task WarmUpAsync(TimeSpan within) =>
        await _database.HashGetAsync(_options.CurrentValue.Routes.HashKey, "").WaitAsync(within);

    public void Dispose() => _redis.ConnectionRestored -= OnConnectionRestored;

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) => _ = _breaker.CloseAsync();

    private RouteStoreUnavailableException Unavailable(Exception ex, string operation)
    {
        var reason = _refusals.Explain(ex, operation) ?? ex switch
        {
            BrokenCircuitException => "circuit open after repeated failures",
            TimeoutRejectedException or TimeoutException => "timed out",
            _ => ex.Message,
        };
        return new RouteStoreUnavailableException($"Route store unavailable: {reason}", ex);
    }
}
