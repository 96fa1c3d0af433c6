using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Workspaces;

namespace Operator.Drivers.Kubernetes;

/// <summary>
/// Watches the workspace pods (by label) and reports which workspace each change belongs to: a pod
/// that turns ready, unready or disappears is reconciled at once, its route updated or removed.
/// </summary>
internal sealed class PodWatcher(IKubernetes kubernetes, IOptions<OperatorOptions> options, ILogger<PodWatcher> logger)
    : BackgroundService, IWorkloadEvents
{
    private const string Selector = "app.kubernetes.io/managed-by=workspace-operator";

    private readonly string _namespace = options.Value.Namespace;

    public event Action<string>? Changed;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        ListWatch.RunAsync<V1Pod>(
            "pods",
            async cancellationToken =>
            {
                var list = await kubernetes.CoreV1.ListNamespacedPodAsync(_namespace, labelSelector: Selector, cancellationToken: cancellationToken);
                return ([.. list.Items], list.Metadata?.ResourceVersion ?? "");
            },
            (version, onError, cancellationToken) => kubernetes.CoreV1.WatchListNamespacedPodAsync(
                _namespace,
                allowWatchBookmarks: true,
                labelSelector: Selector,
                resourceVersion: version,
                timeoutSeconds: ListWatch.WatchTimeoutSeconds,
                onError: onError,
                cancellationToken: cancellationToken),
            pods =>
            {
                foreach (var pod in pods)
                {
                    Report(pod);
                }
            },
            (_, pod) => Report(pod),
            logger,
            stoppingToken);

    private void Report(V1Pod pod)
    {
        if (pod.Metadata?.Labels is { } labels && labels.TryGetValue(KubernetesWorkspaceDriver.WorkspaceLabel, out var sid))
        {
            Changed?.Invoke(sid);
        }
    }
}
