namespace Gateway.Routing;

/// <summary>Answers "where does this workspace live?" for every proxied request.</summary>
public interface IRouteResolver
{
    /// <summary>The allocation-free hot path: a fresh cached answer, or false.</summary>
    bool TryGetCached(ReadOnlySpan<char> sid, out RouteLookup lookup);

    /// <summary>The miss path: at most one store lookup per sid at a time, shared by all waiters.</summary>
    ValueTask<RouteLookup> ResolveAsync(string sid, CancellationToken cancellationToken);
}

/// <summary>Drops cached answers when writers announce a change, and re-checks them when changes may have been missed.</summary>
public interface IRouteInvalidator
{
    void Invalidate(string sid);

    void InvalidateAll();

    /// <summary>Re-reads every cached answer from the store, keeping each until the store says otherwise.</summary>
    /// <returns>The sids whose route changed.</returns>
    /// <exception cref="RouteStoreUnavailableException">Part of the cache could not be checked; call again.</exception>
    Task<IReadOnlyList<string>> RevalidateAsync(CancellationToken cancellationToken);
}

/// <summary>
/// The authoritative route table: Redis hash <c>hosts</c> (<c>host:port</c>) and beside it hash <c>shares</c>
/// (the ports' sharing levels), read together.
/// </summary>
public interface IRouteStore
{
    /// <summary>What is stored for <paramref name="sid"/> (nulls where there is nothing), from the node <paramref name="source"/> allows.</summary>
    /// <exception cref="RouteStoreUnavailableException">The store did not answer in time, or no node it allows could.</exception>
    Task<StoredRoute> GetAsync(string sid, RouteReadSource source, CancellationToken cancellationToken);

    /// <summary>
    /// What is stored for many sids at once, in their order, from the primary only: the answers replace what is
    /// cached (<see cref="RouteReadSource.Primary"/>).
    /// </summary>
    /// <exception cref="RouteStoreUnavailableException">The primary did not answer in time.</exception>
    Task<StoredRoute[]> GetManyAsync(IReadOnlyList<string> sids, CancellationToken cancellationToken);
}

/// <summary>Which node of a replicated Redis may answer a route read.</summary>
public enum RouteReadSource
{
    /// <summary>The primary, or a replica while it is away: a workspace not cached yet is better served from a replica than not at all.</summary>
    AnyNode,

    /// <summary>
    /// The primary alone: the answer replaces a route that is cached, and a replica that lags behind the primary or
    /// is resynchronising after a failover answers "no route" for a workspace that runs. Without a primary the
    /// read fails, and what is cached keeps serving until a primary answers otherwise.
    /// </summary>
    Primary,
}

/// <summary>The stored values of one workspace, unparsed: its address and its ports' sharing levels.</summary>
public readonly record struct StoredRoute(string? Address, string? Shares);

public sealed class RouteStoreUnavailableException : Exception
{
    public RouteStoreUnavailableException()
    {
    }

    public RouteStoreUnavailableException(string message)
        : base(message)
    {
    }

    public RouteStoreUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Told after cached routes were dropped because a writer announced a change (or changes may have been
/// missed), so holders of long-lived connections can check theirs against the store.
/// </summary>
public interface IRouteChangeObserver
{
    /// <param name="sid">The workspace that changed, or null for "any may have changed".</param>
    void RoutesChanged(string? sid);
}
