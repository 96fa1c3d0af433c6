namespace Gateway.Routing;

internal enum WorkspacePathKind
{
    /// <summary>Not under <c>/ws/</c>: someone else's request (static routes, 404).</summary>
    NotWorkspace,

    /// <summary><c>/ws/&lt;sid&gt;</c> without the slash: redirected, since relative links would break.</summary>
    MissingTrailingSlash,

    InvalidSid,

    /// <summary><c>/proxy/&lt;port&gt;/</c> or <c>/absproxy/&lt;port&gt;/</c> with a port outside 1..65535.</summary>
    InvalidPort,

    Workspace,
}

/// <summary>The parsed shape of a request path; the sid is <c>path[4..(4 + SidLength)]</c>.</summary>
internal readonly struct WorkspacePath(WorkspacePathKind kind, int sidLength)
{
    /// <summary>Length of <c>/ws/</c>.</summary>
    public const int SidStart = 4;

    public WorkspacePathKind Kind { get; } = kind;

    public int SidLength { get; } = sidLength;

    /// <summary>Length of <c>/ws/&lt;sid&gt;</c>, the prefix stripped before forwarding.</summary>
    public int PrefixLength => SidStart + SidLength;
}
