using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Operator.Reconciliation;

/// <summary>Ready once the workspace list has been read: before that the API would answer 404 for everything.</summary>
internal sealed class WorkspaceListReadiness(WorkspaceInformer informer) : IHealthCheck
{
    private static readonly Task<HealthCheckResult> Synced = Task.FromResult(HealthCheckResult.Healthy());

    private static readonly Task<HealthCheckResult> NotSynced = Task.FromResult(HealthCheckResult.Unhealthy("the workspace list has not been read yet"));

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        informer.Synced.IsCompletedSuccessfully ? Synced : NotSynced;
}
