namespace Operator.Drivers.Kubernetes;

/// <summary>What a write with the object's resourceVersion came to.</summary>
public enum WriteOutcome
{
    Written,

    /// <summary>The resourceVersion was stale: read again and reapply.</summary>
    Conflict,

    NotFound,
}

/// <summary>
/// Read-modify-write with optimistic concurrency: on a conflict the object is read again and the change
/// applied to the fresh copy, as every controller must (someone else may have written in between). One loop
/// for every kind the operator writes this way (Workspaces, the Lease).
/// </summary>
internal static class ConflictRetry
{
    private const int Attempts = 5;

    /// <summary>
    /// Applies <paramref name="change"/> (false: nothing to change) and writes; returns the stored object,
    /// or null when it is gone.
    /// </summary>
    /// <exception cref="InvalidOperationException">Every attempt met a conflicting write.</exception>
    public static async Task<T?> UpdateAsync<T>(T current, Func<T, bool> change, Func<T, Task<(WriteOutcome Outcome, T? Stored)>> write, Func<Task<T?>> readAgain)
        where T : class
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!change(current))
            {
                return current;
            }

            var (outcome, stored) = await write(current);
            switch (outcome)
            {
                case WriteOutcome.Written:
                    return stored;
                case WriteOutcome.NotFound:
                    return null;
                case WriteOutcome.Conflict when attempt < Attempts:
                    if (await readAgain() is not { } fresh)
                    {
                        return null;
                    }

                    current = fresh;
                    break;
                default:
                    throw new InvalidOperationException($"the object kept changing under us: {Attempts} conflicting writes in a row");
            }
        }
    }
}
