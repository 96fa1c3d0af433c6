namespace WorkspaceOperator.Kubernetes;

/// <summary>
/// List, then watch from the list's resourceVersion, for as long as the caller runs: what client-go's
/// reflector does. A watch the server ends (timeout, restart) or that fails resumes from the last version
/// seen, so nothing is missed and nothing is listed again; only a 410 (that version is too old) lists
/// again. Bookmarks only advance the version.
/// </summary>
internal static partial class ListWatch
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    public static async Task RunAsync<T>(
        IKubernetesClient kubernetes,
        ResourceKind kind,
        string ns,
        string? labelSelector,
        Action<KubernetesList<T>> listed,
        Action<WatchEvent<T>> changed,
        ILogger logger,
        CancellationToken stoppingToken)
        where T : KubernetesObject
    {
        // The version the caller has seen everything up to; null: list first.
        string? version = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (version is null)
                {
                    var list = await kubernetes.ListAsync<T>(kind, ns, labelSelector, stoppingToken);
                    version = list.Metadata.ResourceVersion ?? "";
                    LogListed(logger, list.Items.Count, kind.Plural, version);
                    listed(list);
                }

                var events = 0;
                var started = Environment.TickCount64;
                await foreach (var change in kubernetes.WatchAsync<T>(kind, ns, version, labelSelector, stoppingToken))
                {
                    events++;
                    version = change.Value.Metadata.ResourceVersion ?? version;
                    if (change.Type != WatchEventType.Bookmark)
                    {
                        changed(change);
                    }
                }

                LogWatchEnded(logger, kind.Plural, events, version);
                if (events == 0 && Environment.TickCount64 - started < RetryDelay.TotalMilliseconds)
                {
                    // A server that closes watches at once must not turn this into a busy loop.
                    await Task.Delay(RetryDelay, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (KubernetesApiException ex) when (ex.IsExpired)
            {
                LogExpired(logger, kind.Plural, ex.Message);
                version = null;
            }
            catch (Exception ex) when (ex is HttpRequestException or KubernetesApiException or IOException or System.Text.Json.JsonException)
            {
                LogFailed(logger, ex, kind.Plural);
                await Task.Delay(RetryDelay, stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} {Kind} at resourceVersion {Version}")]
    private static partial void LogListed(ILogger logger, int count, string kind, string version);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Watch of {Kind} ended by the server after {Events} events; resuming from {Version}")]
    private static partial void LogWatchEnded(ILogger logger, string kind, int events, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch of {Kind} expired ({Detail}); listing again")]
    private static partial void LogExpired(ILogger logger, string kind, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "List/watch of {Kind} failed; retrying in a second")]
    private static partial void LogFailed(ILogger logger, Exception exception, string kind);
}
