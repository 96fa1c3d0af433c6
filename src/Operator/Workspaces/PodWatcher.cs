using Microsoft.Extensions.Options;
using WorkspaceOperator.Configuration;
using WorkspaceOperator.Kubernetes;

namespace WorkspaceOperator.Workspaces;

/// <summary>
/// Watches the workspace pods (by label) and reports which workspace each change belongs to: a pod
/// that turns ready, unready or disappears is reconciled at once, its route updated or removed.
/// </summary>
internal sealed partial class PodWatcher(IKubernetesClient kubernetes, IOptions<OperatorOptions> options, ILogger<PodWatcher> logger)
    : BackgroundService, IWorkloadEvents
{
    private const string Selector = "app.kubernetes.io/managed-by=workspace-operator";
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    public event Action<string>? Changed;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ns = options.Value.Namespace;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var list = await kubernetes.ListAsync<Pod>(ResourceKind.Pods, ns, Selector, stoppingToken);
                foreach (var pod in list.Items)
                {
                    Report(pod);
                }

                var version = list.Metadata.ResourceVersion ?? "";
                while (true)
                {
                    var started = Environment.TickCount64;
                    await foreach (var change in kubernetes.WatchAsync<Pod>(ResourceKind.Pods, ns, version, Selector, stoppingToken))
                    {
                        version = change.Value.Metadata.ResourceVersion ?? version;
                        if (change.Type != WatchEventType.Bookmark)
                        {
                            Report(change.Value);
                        }
                    }

                    if (Environment.TickCount64 - started < RetryDelay.TotalMilliseconds)
                    {
                        await Task.Delay(RetryDelay, stoppingToken);
                    }
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is HttpRequestException or KubernetesApiException or IOException or System.Text.Json.JsonException)
            {
                // Pod events only speed things up (the reconciler also polls and resyncs): relist and go on.
                LogFailed(ex);
                await Task.Delay(RetryDelay, stoppingToken);
            }
        }
    }

    private void Report(Pod pod)
    {
        if (pod.Metadata.Labels?.GetValueOrDefault(KubernetesWorkspaceDriver.WorkspaceLabel) is { } sid)
        {
            Changed?.Invoke(sid);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pod list/watch failed; retrying")]
    private partial void LogFailed(Exception exception);
}
