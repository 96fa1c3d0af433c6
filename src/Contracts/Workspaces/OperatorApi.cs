namespace Contracts.Workspaces;

// The operator's HTTP API as both sides spell it: the operator answers with these, the web API sends and
// reads them. One definition, so a field renamed on one side cannot silently read as null on the other.

/// <summary>The operator API's addresses: the operator maps them, the web API calls them.</summary>
public static class OperatorApiPaths
{
    /// <summary>The collection: <c>GET</c> lists, <c>POST</c> creates.</summary>
    public const string Workspaces = "/api/workspaces";

    /// <summary>Below <see cref="Workspaces"/>: one workspace (<c>GET</c>, <c>DELETE</c>).</summary>
    public const string One = "/{sid}";

    public const string Start = "/{sid}/start";
    public const string Stop = "/{sid}/stop";

    /// <summary><c>PUT</c> the sharing of its ports (<see cref="SetPortsRequest"/>).</summary>
    public const string Ports = "/{sid}/ports";

    /// <summary><c>GET</c> what it listens on (<see cref="ListeningPortsInfo"/>).</summary>
    public const string ListeningPorts = "/{sid}/listening-ports";

    /// <summary>How long a call may wait for the workspace to get there, in seconds (0: answer at once).</summary>
    public const string WaitParameter = "wait";

    /// <summary>The address of <paramref name="route"/> (one of the above) for workspace <paramref name="sid"/>.</summary>
    public static string For(string route, string sid) => Workspaces + route.Replace("{sid}", Uri.EscapeDataString(sid), StringComparison.Ordinal);
}

/// <summary>Create (and by default start) a workspace: the old RPC's "create space".</summary>
public sealed record CreateWorkspaceRequest(
    string? Sid,
    string? Image,
    string? Cpu,
    string? Memory,
    string? Storage,
    string? Hardware,
    int? Port,
    string? MountPath,
    string? Owner,
    bool Start = true);

/// <summary>One port's sharing level: <c>private</c>, <c>authenticated</c> or <c>public</c>.</summary>
public sealed record SharedPortInfo(int Port, string Sharing);

/// <summary>Replaces the sharing of a workspace's ports: ports not listed become private.</summary>
public sealed record SetPortsRequest(IReadOnlyList<SharedPortInfo>? Ports);

/// <summary>
/// A workspace as the operator sees it: what was asked (<see cref="DesiredState"/>), what is
/// (<see cref="Phase"/>, one of <see cref="WorkspacePhase"/>), why (<see cref="Reason"/>, a stable word, and
/// <see cref="Message"/>, a sentence), and where the editor runs (the old RPC's pod info).
/// </summary>
public sealed record WorkspaceInfo(
    string Sid,
    string DesiredState,
    string Phase,
    bool Ready,
    string? Reason,
    string? Message,
    string? Address,
    string? PodIP,
    string? NodeName,
    int? Port,
    string? Owner,
    string Image,
    string Cpu,
    string Memory,
    string Storage,
    string? Hardware,
    DateTimeOffset? CreatedAt,
    IReadOnlyList<SharedPortInfo> Ports);

/// <summary>The values of <see cref="WorkspaceInfo.Phase"/>, the CRD's <c>status.phase</c>.</summary>
public static class WorkspacePhase
{
    public const string Pending = "Pending";
    public const string Starting = "Starting";
    public const string Running = "Running";
    public const string Stopping = "Stopping";
    public const string Stopped = "Stopped";
    public const string Failed = "Failed";
    public const string Deleting = "Deleting";
}

/// <summary>
/// The TCP ports a running workspace listens on (its dev servers), as the operator can tell; <see cref="Detected"/>
/// is false where its driver cannot look (Kubernetes, for now), and the list is then empty.
/// </summary>
public sealed record ListeningPortsInfo(bool Detected, IReadOnlyList<int> Ports);
