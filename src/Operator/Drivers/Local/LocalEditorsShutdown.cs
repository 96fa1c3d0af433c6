using Operator.Routes;

namespace Operator.Drivers.Local;

/// <summary>
/// On the one-machine platform the editors are the operator's children: when it stops, they stop, and
/// their routes go with them (the gateway would otherwise keep sending users to a closed port). Their
/// Workspaces stay Running, so the next start brings them back with their data.
/// </summary>
internal sealed partial class LocalEditorsShutdown(LocalProcessDriver driver, IRoutePublisher routes, ILogger<LocalEditorsShutdown> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var stopped = await driver.StopAllAsync();
        foreach (var sid in stopped)
        {
            try
            {
                await routes.RemoveRouteAsync(sid, cancellationToken);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogRouteNotRemoved(ex, sid);
            }
        }

        LogStopped(stopped.Count);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped {Count} local editors")]
    private partial void LogStopped(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {Sid}: route not removed at shutdown")]
    private partial void LogRouteNotRemoved(Exception exception, string sid);
}
