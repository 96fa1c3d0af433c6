namespace Operator.Leadership;

/// <summary>Makes sure at most one operator replica reconciles at a time.</summary>
public interface ILeaderElector
{
    /// <summary>
    /// Completes when this replica leads, with a token that is cancelled the moment it may no longer
    /// act (the lease was lost or could not be renewed in time).
    /// </summary>
    Task<CancellationToken> AcquireAsync(CancellationToken stoppingToken);
}

/// <summary>One operator on one machine: always the leader.</summary>
internal sealed class SoleLeader : ILeaderElector
{
    public Task<CancellationToken> AcquireAsync(CancellationToken stoppingToken) => Task.FromResult(stoppingToken);
}
