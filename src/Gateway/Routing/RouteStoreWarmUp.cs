namespace Gateway.Routing;

/// <summary>Connects to Redis before Kestrel starts listening (hosted services start first).</summary>
internal sealed partial class RouteStoreWarmUp(IRouteStore store, ILogger<RouteStoreWarmUp> logger) : IHostedService
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(3);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (store is not RedisRouteStore redis)
        {
            return;
        }

        try
        {
            await redis.WarmUpAsync(Bound).WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Start anyway: cached nothing yet, uncached lookups answer 503 and /readyz says why.
            LogUnreachable(ex.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis did not answer at start-up: {Reason}; starting anyway, /readyz reports not ready until it does")]
    private partial void LogUnreachable(string reason);
}
