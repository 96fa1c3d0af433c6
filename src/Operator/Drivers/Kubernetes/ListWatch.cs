using k8s;
using k8s.Models;

namespace Operator.Drivers.Kubernetes;

/// <summary>
/// List, then watch from the list's resourceVersion, for as long as the caller runs: what client-go's
/// reflector does, over the official client's list and watch calls. A watch the server ends (timeout,
/// restart) or that fails resumes from the last version seen, so nothing is missed and nothing is listed
/// again; only a 410 (that version is too old) lists again. Bookmarks only advance the version.
/// </summary>
internal static partial class ListWatch
{
    /// <summary>How long the server keeps one watch open before ending it; we resume from the last version.</summary>
    public const int WatchTimeoutSeconds = 290;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    /// <param name="list">The current items and the list's resourceVersion.</param>
    /// <param name="watch">Events after a version; failures the stream reports (an ERROR event) go to the callback.</param>
    public static async Task RunAsync<T>(
        string kind,
        Func<CancellationToken, Task<(IReadOnlyList<T> Items, string Version)>> list,
        Func<string, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType Type, T Value)>> watch,
        Action<IReadOnlyList<T>> listed,
        Action<WatchEventType, T> changed,
        ILogger logger,
        CancellationToken stoppingToken)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        // The version the caller has seen everything up to; null: list first.
        string? version = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (version is null)
                {
                    var (items, listVersion) = await list(stoppingToken);
                    version = listVersion;
                    LogListed(logger, items.Count, kind, version);
                    listed(items);
                }

                var events = 0;
                Exception? streamError = null;
                var started = Environment.TickCount64;
                await foreach (var (type, value) in watch(version, error => streamError ??= error, stoppingToken))
                {
                    events++;
                    version = value.Metadata?.ResourceVersion ?? version;
                    if (type != WatchEventType.Bookmark)
                    {
                        changed(type, value);
                    }
                }

                if (streamError is not null)
                {
                    throw streamError;
                }

                LogWatchEnded(logger, kind, events, version);
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
            catch (Exception ex) when (ex.IsExpired())
            {
                var detail = ApiErrors.Describe(ex);
                LogExpired(logger, kind, detail);
                version = null;
            }
            catch (Exception ex) when (ex is k8s.Autorest.HttpOperationException or KubernetesException or HttpRequestException or IOException or System.Text.Json.JsonException)
            {
                LogFailed(logger, ex, kind);
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
