using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServiceDefaults.Threading;
using StackExchange.Redis;

namespace ServiceDefaults.Redis;

public static partial class RedisServiceCollectionExtensions
{
    /// <summary>
    /// One <see cref="IConnectionMultiplexer"/> for the program (StackExchange.Redis is built to be shared:
    /// it pipelines every caller's commands over one connection), signed in as the program's own Redis user
    /// from <paramref name="settings"/> (the <paramref name="section"/> of its configuration), with its
    /// connection changes logged and its password and connection watched by a <see cref="RedisConnectionMonitor"/>.
    /// Also registers <see cref="RedisRefusals"/>, which words an ACL refusal for the logs.
    /// </summary>
    public static IServiceCollection AddRedis(this IServiceCollection services, string clientName, string section, Func<IServiceProvider, RedisConnectionOptions> settings)
    {
        services.AddSingleton(sp => new RedisSignIn(settings(sp), section, clientName));
        services.AddSingleton<RedisRefusals>();
        services.AddSingleton<RedisConnectionMonitor>();
        services.AddSingleton<IConnectionMultiplexer>(sp =>
        {
            var logger = sp.GetRequiredService<ILoggerFactory>().CreateLogger("ServiceDefaults.Redis");
            var options = sp.GetRequiredService<RedisSignIn>().Options;
            if (!string.IsNullOrEmpty(options.ServiceName))
            {
                ThreadPoolMinimum.RaiseTo(SentinelThreadPoolMinimum);
            }

            var multiplexer = ConnectionMultiplexer.Connect(options);
            multiplexer.ConnectionFailed += (_, e) => LogConnectionFailed(logger, e.EndPoint, e.ConnectionType, e.FailureType, e.Exception?.Message);
            multiplexer.ConnectionRestored += (_, e) => LogConnectionRestored(logger, e.EndPoint, e.ConnectionType);

            // Resolved after the multiplexer exists, so the container disposes the monitor first: it never
            // checks a multiplexer that is already gone.
            sp.GetRequiredService<RedisConnectionMonitor>().Watch(multiplexer);
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
}
