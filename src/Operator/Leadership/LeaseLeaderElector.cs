using k8s;
using k8s.Models;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Drivers.Kubernetes;

namespace Operator.Leadership;

/// <summary>
/// Leader election on a <c>coordination.k8s.io/v1</c> Lease, as client-go does it: the holder renews
/// the lease every <see cref="LeaderElectionOptions.RenewInterval"/>; another replica takes it over
/// only after it has seen the same record unchanged for a whole <see cref="LeaderElectionOptions.LeaseDuration"/>,
/// timed by its own monotonic clock (so clocks that disagree between nodes do not matter). Every write
/// carries the resourceVersion read, so two candidates cannot both win: one gets 409. A leader that
/// cannot renew stops acting before its lease could have expired for the others, and a replica shutting
/// down releases the lease (client-go's <c>ReleaseOnCancel</c>).
/// </summary>
/// <remarks>
/// On the official client's typed Lease API, but not its <c>LeaderElector</c>: that one (KubernetesClient
/// 21.0.8) has no release on shutdown, so every rollout would leave the operator leaderless for a whole
/// lease duration, and it times the holder's lease on the wall clock (<c>DateTimeOffset.Now</c>), which a
/// clock step can cut short. Both are rules <c>LeaseLeaderElectorTests</c> checks.
/// </remarks>
internal sealed partial class LeaseLeaderElector : ILeaderElector, IAsyncDisposable
{
    private readonly IKubernetes _kubernetes;
    private readonly LeaderElectionOptions _options;
    private readonly string _namespace;
    private readonly TimeProvider _time;
    private readonly ILogger<LeaseLeaderElector> _logger;
    private (string? Holder, DateTime? RenewTime, string? Version) _observed;
    private long _observedAt;
    private V1Lease? _held;
    private CancellationTokenSource? _leading;
    private Task? _renewing;

    public LeaseLeaderElector(IKubernetes kubernetes, IOptions<OperatorOptions> options, LeaseNamespace leaseNamespace, TimeProvider time, ILogger<LeaseLeaderElector> logger)
    {
        _kubernetes = kubernetes;
        _options = options.Value.Kubernetes.LeaderElection;
        _namespace = leaseNamespace.Value;
        _time = time;
        _logger = logger;
        Identity = $"{Environment.MachineName}_{Guid.NewGuid():N}";
    }

    public string Identity { get; }

    public async Task<CancellationToken> AcquireAsync(CancellationToken stoppingToken)
    {
        while (true)
        {
            try
            {
                if (await TryAcquireOrRenewAsync(stoppingToken))
                {
                    LogAcquired(_options.LeaseName, Identity);
                    _leading?.Dispose();
                    _leading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                    _renewing = RenewAsync(_leading, stoppingToken);
                    return _leading.Token;
                }
            }
            catch (Exception ex) when (IsApiFailure(ex))
            {
                LogAttemptFailed(ex, _options.LeaseName);
            }

            await Task.Delay(_options.RenewInterval, _time, stoppingToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_leading is null)
        {
            return;
        }

        await _leading.CancelAsync();
        if (_renewing is not null)
        {
            await _renewing;
        }

        // Handing over at once instead of making the next replica wait out the lease.
        if (_held is { } lease && lease.Spec.HolderIdentity == Identity)
        {
            try
            {
                // A renewal cancelled in flight may still have landed, leaving our copy a version behind: on
                // 409 the lease is read again and released only if it is still ours.
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                var released = await ConflictRetry.UpdateAsync(lease, Release, held => ReplaceLeaseAsync(held, timeout.Token), () => ReadLeaseAsync(timeout.Token));
                if (released is not null && released.Spec.HolderIdentity is null)
                {
                    LogReleased(_options.LeaseName);
                }
            }
            catch (Exception ex) when (IsApiFailure(ex) || ex is OperationCanceledException or InvalidOperationException)
            {
                LogReleaseFailed(ex, _options.LeaseName);
            }
        }

        _leading.Dispose();
    }

    /// <summary>Clears the holder if it is still us (false: nothing to write).</summary>
    private bool Release(V1Lease lease)
    {
        if (lease.Spec.HolderIdentity != Identity)
        {
            return false;
        }

        lease.Spec.HolderIdentity = null;
        lease.Spec.LeaseDurationSeconds = 1;
        return true;
    }

    private async Task<(WriteOutcome Outcome, V1Lease? Stored)> ReplaceLeaseAsync(V1Lease lease, CancellationToken cancellationToken)
    {
        try
        {
            return (WriteOutcome.Written, await _kubernetes.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, _options.LeaseName, _namespace, cancellationToken: cancellationToken));
        }
        catch (Exception ex) when (ex.IsConflict() || ex.IsNotFound())
        {
            return (ex.IsConflict() ? WriteOutcome.Conflict : WriteOutcome.NotFound, null);
        }
    }

    private async Task RenewAsync(CancellationTokenSource leading, CancellationToken stoppingToken)
    {
        var lastRenewed = _time.GetTimestamp();

        // Stop acting a little before the others may take over: they wait a full LeaseDuration from
        // when they saw our last renewal, which is no earlier than our own last success.
        var deadline = _options.LeaseDuration - _options.RenewInterval / 2;
        try
        {
            while (!leading.IsCancellationRequested)
            {
                await Task.Delay(_options.RenewInterval, _time, leading.Token);
                try
                {
                    if (await TryAcquireOrRenewAsync(leading.Token))
                    {
                        lastRenewed = _time.GetTimestamp();
                        continue;
                    }

                    LogLost(_options.LeaseName, _observed.Holder);
                    break;
                }
                catch (Exception ex) when (IsApiFailure(ex))
                {
                    LogRenewFailed(ex, _options.LeaseName);
                    if (_time.GetElapsedTime(lastRenewed) >= deadline)
                    {
                        LogLost(_options.LeaseName, null);
                        break;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        if (!stoppingToken.IsCancellationRequested)
        {
            await leading.CancelAsync();
        }
    }

    private async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        var duration = (int)Math.Ceiling(_options.LeaseDuration.TotalSeconds);
        var lease = await ReadLeaseAsync(cancellationToken);
        if (lease is null)
        {
            try
            {
                _held = await _kubernetes.CoordinationV1.CreateNamespacedLeaseAsync(
                    new V1Lease
                    {
                        ApiVersion = "coordination.k8s.io/v1",
                        Kind = "Lease",
                        Metadata = new V1ObjectMeta { Name = _options.LeaseName, NamespaceProperty = _namespace },
                        Spec = new V1LeaseSpec { HolderIdentity = Identity, LeaseDurationSeconds = duration, AcquireTime = now, RenewTime = now, LeaseTransitions = 0 },
                    },
                    _namespace,
                    cancellationToken: cancellationToken);
                return true;
            }
            catch (Exception ex) when (ex.IsConflict())
            {
                return false;
            }
        }

        Observe(lease);
        var spec = lease.Spec;
        var mine = spec.HolderIdentity == Identity;
        if (!mine && !string.IsNullOrEmpty(spec.HolderIdentity)
            && _time.GetElapsedTime(_observedAt) < TimeSpan.FromSeconds(spec.LeaseDurationSeconds ?? duration))
        {
            return false;
        }

        if (!mine)
        {
            spec.AcquireTime = now;
            spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + 1;
        }

        spec.HolderIdentity = Identity;
        spec.LeaseDurationSeconds = duration;
        spec.RenewTime = now;
        try
        {
            _held = await _kubernetes.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, _options.LeaseName, _namespace, cancellationToken: cancellationToken);
            Observe(_held);
            return true;
        }
        catch (Exception ex) when (ex.IsConflict())
        {
            // Another candidate wrote first.
            return false;
        }
    }

    private Task<V1Lease?> ReadLeaseAsync(CancellationToken cancellationToken) =>
        ApiErrors.ReadOrNullAsync(() => _kubernetes.CoordinationV1.ReadNamespacedLeaseAsync(_options.LeaseName, _namespace, cancellationToken: cancellationToken));

    private static bool IsApiFailure(Exception exception) =>
        exception is k8s.Autorest.HttpOperationException or HttpRequestException;

    private void Observe(V1Lease lease)
    {
        var record = (lease.Spec.HolderIdentity, lease.Spec.RenewTime, lease.Metadata.ResourceVersion);
        if (record != _observed)
        {
            _observed = record;
            _observedAt = _time.GetTimestamp();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Acquired lease {Lease} as {Identity}")]
    private partial void LogAcquired(string lease, string identity);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost lease {Lease} (now held by {Holder})")]
    private partial void LogLost(string lease, string? holder);

    [LoggerMessage(Level = LogLevel.Information, Message = "Released lease {Lease}")]
    private partial void LogReleased(string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not release lease {Lease}; the next leader waits for it to expire")]
    private partial void LogReleaseFailed(Exception exception, string lease);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not read or take lease {Lease}")]
    private partial void LogAttemptFailed(Exception exception, string lease);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew lease {Lease}")]
    private partial void LogRenewFailed(Exception exception, string lease);
}

/// <summary>The namespace the lease lives in: the operator's own, not the workspaces'.</summary>
public sealed record LeaseNamespace(string Value);
