using CSRedis;
using Gateway.Configuration;
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
    private readonly CSRedisClient _client;
    private readonly RedisCommandThreads _threads = new("redis-lookup", threads: 2, queueCapacity: 256);
    private readonly IOptionsMonitor<GatewayOptions> _options;
    private readonly ResiliencePipeline _pipeline;

    public RedisRouteStore(IOptionsMonitor<GatewayOptions> options, TimeProvider time)
    {
        _options = options;
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
        try
        {
            return await _pipeline.ExecuteAsync(
                // CSRedisCore's calls take no token; WaitAsync lets our timeout abandon them.
                static async (state, token) => await state.Threads.RunAsync(() => state.Client.HGet(state.HashKey, state.Sid)).WaitAsync(token),
                (Client: _client, Threads: _threads, HashKey: hashKey, Sid: sid),
                cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = ex switch
            {
                BrokenCircuitException => "circuit open after repeated failures",
                TimeoutRejectedException => "timed out",
                _ => ex.Message,
            };
            throw new RouteStoreUnavailableException($"Route store unavailable: {reason}", ex);
        }
    }

    public void Dispose()
    {
        _threads.Dispose();
        _client.Dispose();
    }
}
