namespace Gateway.Routing;

internal enum WorkspaceHostKind
{
    /// <summary>Not under <c>Routes:WorkspaceDomain</c> (or none is set): path routing and the platform's own routes.</summary>
    NotWorkspaceHost,

    /// <summary>Under the workspace domain but not a workspace origin this gateway serves: 400.</summary>
    Invalid,

    /// <summary><c>&lt;sid&gt;.&lt;domain&gt;</c>: the editor.</summary>
    Editor,

    /// <summary><c>&lt;port&gt;--&lt;sid&gt;.&lt;domain&gt;</c>: the dev server on that port of the workspace.</summary>
    Port,
}

/// <summary>The parsed shape of a Host header; the sid is <c>host[SidStart..(SidStart + SidLength)]</c>.</summary>
internal readonly struct WorkspaceHost(WorkspaceHostKind kind, int sidStart = 0, int sidLength = 0, int port = 0)
{
    public WorkspaceHostKind Kind { get; } = kind;

    public int SidStart { get; } = sidStart;

    public int SidLength { get; } = sidLength;

    /// <summary>The dev server's port for <see cref="WorkspaceHostKind.Port"/>; 0 for the editor.</summary>
    public int Port { get; } = port;

    public bool IsWorkspace => Kind is WorkspaceHostKind.Editor or WorkspaceHostKind.Port;
}
