using Contracts.Sharing;

namespace Gateway.Routing;

public enum RouteLookupStatus
{
    Found,

    /// <summary>No entry in the route hash: the workspace is not running.</summary>
    NotFound,

    /// <summary>The stored value is not a usable <c>host:port</c>.</summary>
    Invalid,

    /// <summary>The route store could not answer in time and nothing usable is cached.</summary>
    StoreUnavailable,
}

/// <summary>
/// One sid's answer. <see cref="Shares"/> comes with every stored answer, running or not: a public link to a
/// stopped workspace's port is told "not running", where a private one is refused like any stranger.
/// </summary>
public readonly record struct RouteLookup(RouteLookupStatus Status, WorkspaceRoute? Route, PortShares Shares)
{
    public static RouteLookup NotFound { get; } = new(RouteLookupStatus.NotFound, null, PortShares.None);

    public static RouteLookup Invalid { get; } = new(RouteLookupStatus.Invalid, null, PortShares.None);

    public static RouteLookup StoreUnavailable { get; } = new(RouteLookupStatus.StoreUnavailable, null, PortShares.None);

    public static RouteLookup Found(WorkspaceRoute route, PortShares shares) => new(RouteLookupStatus.Found, route, shares);

    public static RouteLookup NotRunning(PortShares shares) => shares.Count == 0 ? NotFound : new(RouteLookupStatus.NotFound, null, shares);

    /// <summary>Whether <paramref name="other"/> says the same (same address, same sharing).</summary>
    public bool SameAs(RouteLookup other) =>
        Status == other.Status
        && string.Equals(Route?.Address, other.Route?.Address, StringComparison.Ordinal)
        && Shares.SameAs(other.Shares);
}
