namespace Operator.Routes;

/// <summary>
/// Tells the gateway where a running workspace is, in the old platform's Redis layout (the
/// compatibility contract): <c>HSET hosts &lt;sid&gt; ip:port</c> / <c>HDEL hosts &lt;sid&gt;</c>, each followed by
/// <c>PUBLISH routes:changed &lt;sid&gt;</c> so every gateway drops its cached copy at once.
/// </summary>
public interface IRoutePublisher
{
    /// <summary>Makes the route <paramref name="address"/>; publishes only when it changed.</summary>
    Task EnsureRouteAsync(string sid, string address, CancellationToken cancellationToken);

    /// <summary>Removes the route; publishes only when there was one.</summary>
    Task RemoveRouteAsync(string sid, CancellationToken cancellationToken);

    /// <summary>
    /// Makes the ports' sharing <paramref name="shares"/> (<c>HSET shares &lt;sid&gt;</c>, or <c>HDEL</c> when
    /// nothing is shared), kept while the workspace exists, running or not; publishes only when it changed.
    /// </summary>
    Task EnsureSharesAsync(string sid, Contracts.Sharing.PortShares shares, CancellationToken cancellationToken);

    /// <summary>
    /// Raised when the route store is reachable again after losing its connection: it may have restarted
    /// empty, so every running workspace's route should be written again now rather than at the next resync.
    /// </summary>
    event Action? StoreRestored;
}
