using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using WorkspaceOperator.Configuration;
using WorkspaceOperator.Kubernetes;
using WorkspaceOperator.Workspaces;

namespace WorkspaceOperator.Reconciliation;

/// <summary>
/// Keeps an up-to-date copy of every Workspace by list + watch from the list's resourceVersion,
/// resuming the watch from the last version seen when the server ends it, and listing again on 410
/// (the version is too old). Every replica runs it: the HTTP API answers from it, and the leader's
/// controller takes its change notifications as work.
/// </summary>
internal sealed partial class WorkspaceInformer(
    IKubernetesClient kubernetes,
    IOptions<OperatorOptions> options,
    ILogger<WorkspaceInformer> logger) : BackgroundService
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly string _namespace = options.Value.Namespace;
    private ImmutableDictionary<string, Workspace> _workspaces = ImmutableDictionary<string, Workspace>.Empty;
    private TaskCompletionSource _changed = NewSignal();
    private readonly TaskCompletionSource _synced = NewSignal();

    /// <summary>A workspace was added, changed or deleted (its name).</summary>
    public event Action<string>? Changed;

    /// <summary>Completes once the first list has been read.</summary>
    public Task Synced => _synced.Task;

    public IReadOnlyDictionary<string, Workspace> Workspaces => Volatile.Read(ref _workspaces);

    public Workspace? Get(string name) => Workspaces.GetValueOrDefault(name);

    /// <summary>Completes at the next change of any workspace (callers re-check their condition).</summary>
    public Task NextChange => Volatile.Read(ref _changed).Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // The version the cache is complete up to; null: list first. A failed watch resumes from it
        // (cheap, nothing missed); only a 410 throws it away.
        string? version = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                version ??= await ListAsync(stoppingToken);
                await WatchAsync(version, seen => version = seen, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (KubernetesApiException ex) when (ex.IsExpired)
            {
                LogExpired(ex.Message);
                version = null;
            }
            catch (Exception ex) when (ex is HttpRequestException or KubernetesApiException or IOException or System.Text.Json.JsonException)
            {
                LogFailed(ex);
                await Task.Delay(RetryDelay, stoppingToken);
            }
        }
    }

    private async Task<string> ListAsync(CancellationToken cancellationToken)
    {
        var list = await kubernetes.ListAsync<Workspace>(Workspace.Resource, _namespace, null, cancellationToken);
        var fresh = list.Items.ToImmutableDictionary(item => item.Metadata.Name!);
        var previous = Interlocked.Exchange(ref _workspaces, fresh);
        _synced.TrySetResult();
        LogListed(fresh.Count, list.Metadata.ResourceVersion);

        // Everything listed is work (the resync of a relist), and so is whatever vanished meanwhile.
        foreach (var name in fresh.Keys.Union(previous.Keys))
        {
            Notify(name);
        }

        return list.Metadata.ResourceVersion ?? "";
    }

    private async Task WatchAsync(string version, Action<string> seen, CancellationToken cancellationToken)
    {
        // A watch the server ended (timeout, restart) resumes from the last version seen; only a 410 relists.
        while (true)
        {
            var events = 0;
            var started = Environment.TickCount64;
            await foreach (var change in kubernetes.WatchAsync<Workspace>(Workspace.Resource, _namespace, version, null, cancellationToken))
            {
                events++;
                version = change.Value.Metadata.ResourceVersion ?? version;
                seen(version);
                var name = change.Value.Metadata.Name!;
                switch (change.Type)
                {
                    case WatchEventType.Bookmark:
                        continue;
                    case WatchEventType.Deleted:
                        ImmutableInterlocked.TryRemove(ref _workspaces, name, out _);
                        break;
                    default:
                        ImmutableInterlocked.AddOrUpdate(ref _workspaces, name, change.Value, (_, _) => change.Value);
                        break;
                }

                Notify(name);
            }

            LogWatchEnded(events, version);
            if (events == 0 && Environment.TickCount64 - started < RetryDelay.TotalMilliseconds)
            {
                // A server that closes watches at once must not turn this into a busy loop.
                await Task.Delay(RetryDelay, cancellationToken);
            }
        }
    }

    private void Notify(string name)
    {
        Changed?.Invoke(name);
        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listed {Count} workspaces at resourceVersion {Version}")]
    private partial void LogListed(int count, string? version);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Watch ended by the server after {Events} events; resuming from {Version}")]
    private partial void LogWatchEnded(int events, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watch expired ({Detail}); listing again")]
    private partial void LogExpired(string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace list/watch failed; retrying in a second")]
    private partial void LogFailed(Exception exception);
}
