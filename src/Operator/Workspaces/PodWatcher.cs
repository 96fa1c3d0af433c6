using Microsoft.Extensions.Options;
using WorkspaceOperator.Configuration;
using WorkspaceOperator.Kubernetes;

namespace WorkspaceOperator.Workspaces;

/// <summary>
/// Watches the workspace pods (by label) and reports which workspace each change belongs to: a pod
/// that turns ready, unready or disappears is reconciled at once, its route updated or removed.
/// </summary>
internal sealed class PodWatcher(IKubernetesClient kubernetes, IOptions<OperatorOptions> options, ILogger<PodWatcher> logger)
    : BackgroundService, IWorkloadEvents
{
    private const string Selector = "app.kubernetes.io/managed-by=workspace-operator";

    public event Action<string>? Changed;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        ListWatch.RunAsync<Pod>(
            kubernetes,
            ResourceKind.Pods,
            options.Value.Namespace,
            Selector,
            list => list.Items.ForEach(Report),
            change => Report(change.Value),
            logger,
            stoppingToken);

    private void Report(Pod pod)
    {
        if (pod.Metadata.Labels?.GetValueOrDefault(KubernetesWorkspaceDriver.WorkspaceLabel) is { } sid)
        {
            Changed?.Invoke(sid);
        }
    }
}
