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

public readonly record struct RouteLookup(RouteLookupStatus Status, WorkspaceRoute? Route)
{
    public static RouteLookup NotFound { get; } = new(RouteLookupStatus.NotFound, null);

    public static RouteLookup Invalid { get; } = new(RouteLookupStatus.Invalid, null);

    public static RouteLookup StoreUnavailable { get; } = new(RouteLookupStatus.StoreUnavailable, null);

    public static RouteLookup Found(WorkspaceRoute route) => new(RouteLookupStatus.Found, route);
}
