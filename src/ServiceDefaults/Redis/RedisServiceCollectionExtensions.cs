using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServiceDefaults.Threading;
using StackExchange.Redis;

namespace ServiceDefaults.Redis;

public static partial class RedisServiceCollectionExtensions
{
    /// <summary>
    /// One <see cref="IConnectionMultiplexer"/> for the program (StackExchange.Redis is built to be shared:
    /// it pipelines every caller's commands over one connection), created from the setting
    /// <paramref name="configuration"/> reads, with its connection changes logged.
    /// </summary>
    public static IServiceCollection AddRedis(this IServiceCollection services, string clientName, Func<IServiceProvider, string> configuration)
    {
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("ServiceDefaults.Redis");
            var options = RedisConfiguration.Parse(configuration(sp), clientName);
            if (!string.IsNullOrEmpty(options.ServiceName))
            {
                ThreadPoolMinimum.RaiseTo(SentinelThreadPoolMinimum);
            }

            var multiplexer = ConnectionMultiplexer.Connect(options);
            multiplexer.ConnectionFailed += (_, e) => LogConnectionFailed(logger, e.EndPoint, e.ConnectionType, e.FailureType, e.Exception?.Message);
            multiplexer.ConnectionRestored += (_, e) => LogConnectionRestored(logger, e.EndPoint, e.ConnectionType);
            if (!multiplexer.IsConnected)
            {
                LogNotConnected(logger, string.Join(", ", options.EndPoints));
            }

            return multiplexer;
        });
        return services;
    }

    /// <summary>
    /// StackExchange.Redis handles a Sentinel failover with blocking calls on thread-pool threads (it waits on
    /// its own reconfiguration and queries the Sentinels through PLINQ). With the pool's default minimum (one
    /// thread per core) that starved everything else: a gateway on one core stalled cached requests for 0.5 s
    /// while the primary was replaced. Threads up to this minimum are created on demand without the pool's
    /// injection delay. Only with Sentinel: elsewhere the library does not block, and a larger pool costs a
    /// little on the hot path.
    /// </summary>
    private const int SentinelThreadPoolMinimum = 32;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis connection to {EndPoint} ({ConnectionType}) lost: {FailureType} {Detail}")]
    private static partial void LogConnectionFailed(ILogger logger, System.Net.EndPoint? endPoint, ConnectionType connectionType, ConnectionFailureType failureType, string? detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis connection to {EndPoint} ({ConnectionType}) restored")]
    private static partial void LogConnectionRestored(ILogger logger, System.Net.EndPoint? endPoint, ConnectionType connectionType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis ({EndPoints}) is not reachable yet; starting anyway and connecting in the background")]
    private static partial void LogNotConnected(ILogger logger, string endPoints);
}
