using System.Collections.Frozen;
using Contracts.Workspaces;

namespace WebApi.Orchestration;

/// <summary>What the operator reported about every workspace at <see cref="At"/>; immutable.</summary>
internal sealed class OperatorSnapshot(FrozenDictionary<string, WorkspaceInfo> workspaces, DateTimeOffset at, bool known)
{
    /// <summary>Before the first answer, or while the operator cannot be asked: nothing is claimed.</summary>
    public static readonly OperatorSnapshot Unknown = new(FrozenDictionary<string, WorkspaceInfo>.Empty, DateTimeOffset.MinValue, known: false);

    public DateTimeOffset At { get; } = at;

    /// <summary>False when this is <see cref="Unknown"/>: views fall back to the database's own state.</summary>
    public bool Known { get; } = known;

    public WorkspaceInfo? Get(string sid) => workspaces.GetValueOrDefault(sid);
}

/// <summary>
/// The latest <see cref="OperatorSnapshot"/>, swapped whole by <see cref="OperatorStatusFollower"/>; readers
/// never lock. <see cref="NextAsync"/> completes at the next swap, so a progress stream wakes when there is
/// something new instead of polling the database on its own clock.
/// </summary>
internal sealed class OperatorStatus
{
    private OperatorSnapshot _current = OperatorSnapshot.Unknown;
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public OperatorSnapshot Current => Volatile.Read(ref _current);

    public Task NextAsync => Volatile.Read(ref _next).Task;

    public void Publish(OperatorSnapshot snapshot)
    {
        Volatile.Write(ref _current, snapshot);
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}
