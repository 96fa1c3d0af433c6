namespace WorkspaceOperator.Kubernetes;

/// <summary>
/// Read-modify-write with optimistic concurrency: on 409 the object is read again and the change
/// applied to the fresh copy, as every controller must (someone else may have written in between).
/// </summary>
public static class ConflictRetry
{
    private const int Attempts = 5;

    /// <summary>
    /// Applies <paramref name="change"/> (which returns false when nothing needs changing) and writes the
    /// object, or its status when <paramref name="status"/> is true. Returns the stored object, or null
    /// when it no longer exists.
    /// </summary>
    public static async Task<T?> UpdateAsync<T>(this IKubernetesClient client, ResourceKind kind, T current, Func<T, bool> change, bool status, CancellationToken cancellationToken)
        where T : KubernetesObject
    {
        for (var attempt = 1; ; attempt++)
        {
            if (!change(current))
            {
                return current;
            }

            try
            {
                return status
                    ? await client.ReplaceStatusAsync(kind, current, cancellationToken)
                    : await client.ReplaceAsync(kind, current, cancellationToken);
            }
            catch (KubernetesApiException ex) when (ex.IsConflict && attempt < Attempts)
            {
                var fresh = await client.GetAsync<T>(kind, current.Metadata.Namespace!, current.Metadata.Name!, cancellationToken);
                if (fresh is null)
                {
                    return null;
                }

                current = fresh;
            }
            catch (KubernetesApiException ex) when (ex.IsNotFound)
            {
                return null;
            }
        }
    }
}
