using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Leadership;
using Operator.Routes;
using Operator.Workspaces;
using ServiceDefaults.Redis;

namespace Operator.Reconciliation;

/// <summary>
/// Runs the reconcile workers while this replica leads: every informer change queues its workspace,
/// every workspace is queued again each resync interval, failures come back with backoff.
/// </summary>
internal sealed partial class WorkspaceController : BackgroundService
{
    private readonly WorkspaceInformer _informer;
    private readonly WorkspaceReconciler _reconciler;
    private readonly ILeaderElector _leader;
    private readonly ReconcileOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WorkspaceController> _logger;
    private readonly RedisRefusals _refusals;
    private readonly WorkQueue _queue;

    public WorkspaceController(
        WorkspaceInformer informer,
        WorkspaceReconciler reconciler,
        ILeaderElector leader,
        IWorkloadEvents workloads,
        IRoutePublisher routes,
        IOptions<OperatorOptions> options,
        TimeProvider time,
        RedisRefusals refusals,
        ILogger<WorkspaceController> logger)
    {
        _refusals = refusals;
        _informer = informer;
        _reconciler = reconciler;
        _leader = leader;
        _options = options.Value.Reconcile;
        _time = time;
        _logger = logger;
        _queue = new WorkQueue(time, _options.InitialBackoff, _options.MaxBackoff);
        informer.Changed += _queue.Add;
        workloads.Changed += _queue.Add;
        routes.StoreRestored += QueueAll;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _informer.Synced.WaitAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var leading = await _leader.AcquireAsync(stoppingToken);
            LogLeading();
            using var scope = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, leading);
            var workers = Enumerable.Range(0, _options.Workers).Select(_ => WorkAsync(scope.Token)).ToList();
            workers.Add(ResyncAsync(scope.Token));
            await Task.WhenAll(workers);
            if (!stoppingToken.IsCancellationRequested)
            {
                LogLostLeadership();
            }
        }
    }

    private async Task ResyncAsync(CancellationToken cancellationToken)
    {
        try
        {
            // At once on becoming leader (the previous leader may have left work half done), then periodically.
            do
            {
                QueueAll();
                await Task.Delay(_options.ResyncInterval, _time, cancellationToken);
            }
            while (true);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void QueueAll()
    {
        foreach (var name in _informer.Workspaces.Keys)
        {
            _queue.Add(name);
        }
    }

    private async Task WorkAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            string sid;
            try
            {
                sid = await _queue.TakeAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                var again = await _reconciler.ReconcileAsync(sid, cancellationToken);
                _queue.Forget(sid);
                if (again is { } delay)
                {
                    _queue.AddAfter(sid, delay);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Leadership lost or shutting down: the next leader picks the key up from its own resync.
                _queue.Add(sid);
            }
            catch (Exception ex)
            {
                var delay = _queue.AddWithBackoff(sid);
                if (_refusals.Explain(ex, $"a route write for {sid}") is { } refusal)
                {
                    LogRedisRefused(refusal, delay);
                }
                else if (ex is StackExchange.Redis.RedisException or TimeoutException)
                {
                    // Redis away: the connection monitor says why, once; no stack trace per workspace and retry.
                    LogRouteStoreUnavailable(sid, ex.GetBaseException().Message, delay);
                }
                else
                {
                    LogFailed(ex, sid, delay);
                }
            }
            finally
            {
                _queue.Done(sid);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Leading: reconciling workspaces")]
    private partial void LogLeading();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost leadership: stopped reconciling")]
    private partial void LogLostLeadership();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciling workspace {Sid} failed: Redis did not take its route ({Reason}); retrying in {Delay}")]
    private partial void LogRouteStoreUnavailable(string sid, string reason, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Refusal}. Retrying in {Delay}")]
    private partial void LogRedisRefused(string refusal, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciling workspace {Sid} failed; retrying in {Delay}")]
    private partial void LogFailed(Exception exception, string sid, TimeSpan delay);
}
