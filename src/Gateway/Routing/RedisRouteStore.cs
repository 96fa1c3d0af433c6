using System.Diagnostics;
using CSRedis;
using Gateway.Configuration;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Gateway.Routing;

/// <summary>
/// <c>HGET hosts &lt;sid&gt;</c>, bounded by our own timeout and circuit breaker: the client library's
/// timeouts are seconds long and a hung Redis must cost an uncached request milliseconds, not seconds.
/// </summary>
internal sealed class RedisRouteStore : IRouteStore, IDisposable
{
    private const int LookupThreads = 2;

    private readonly CSRedisClient _client;
    private readonly RedisCommandThreads _threads = new("redis-lookup", LookupThreads, queueCapacity: 256);
    private readonly IOptionsMonitor<GatewayOptions> _options;
    private readonly ResiliencePipeline _pipeline;
    private readonly GatewayMetrics _metrics;

    public RedisRouteStore(IOptionsMonitor<GatewayOptions> options, TimeProvider time, GatewayMetrics metrics)
    {
        _options = options;
        _metrics = metrics;
        var redis = options.CurrentValue.Redis;
        _client = RedisConnectionFactory.Create(redis.Configuration);
        _pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 4,
                SamplingDuration = TimeSpan.FromSeconds(5),
                BreakDuration = redis.CircuitBreakDuration,
            })
            .AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = _ => ValueTask.FromResult(_options.CurrentValue.Redis.LookupTimeout),
            })
            .Build();
    }

    public async Task<string?> GetAddressAsync(string sid, CancellationToken cancellationToken)
    {
        var hashKey = _options.CurrentValue.Routes.HashKey;
        var started = Stopwatch.GetTimestamp();
        try
        {
            var address = await _pipeline.ExecuteAsync(
                // CSRedisCore's calls take no token; WaitAsync lets our timeout abandon them.
                static async (state, token) => await state.Threads.RunAsync(() => state.Client.HGet(state.HashKey, state.Sid)).WaitAsync(token),
                (Client: _client, Threads: _threads, HashKey: hashKey, Sid: sid),
                cancellationToken);
            _metrics.LookupCompleted(started, succeeded: true);
            return address;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _metrics.LookupCompleted(started, succeeded: false);
            var reason = ex switch
            {
                BrokenCircuitException => "circuit open after repeated failures",
                TimeoutRejectedException => "timed out",
                _ => ex.Message,
            };
            throw new RouteStoreUnavailableException($"Route store unavailable: {reason}", ex);
        }
    }

    /// <summary>
    /// Connects and runs the lookup path once per lookup thread's worth of calls before the first request
    /// needs it (the queue may hand both calls to one thread; the connection and code are warm either way).
    /// Cold, the first HGET (connect, JIT) took longer than the lookup timeout: 503s after a start (issue #4).
    /// </summary>
    public async Task WarmUpAsync(TimeSpan within)
    {
        var hashKey = _options.CurrentValue.Routes.HashKey;
        var connections = Enumerable.Range(0, LookupThreads).Select(_ => _threads.RunAsync(() => _client.HGet(hashKey, "")));
        await Task.WhenAll(connections).WaitAsync(within);
    }

    public void Dispose()
    {
        _threads.Dispose();
        _client.Dispose();
    }
}
