using Contracts.Routing;
using ServiceDefaults.Hosting;
using ServiceDefaults.Redis;
using ServiceDefaults.Telemetry;

namespace Operator.Configuration;

public enum DriverKind
{
    /// <summary>Each workspace is a code-server process on this machine; Workspace resources live in a local file.</summary>
    Local,

    /// <summary>Each workspace is a pod and a volume claim; Workspace resources live in the cluster.</summary>
    Kubernetes,
}

/// <summary>The <c>Operator</c> section of config/operator.json.</summary>
public sealed class OperatorOptions
{
    public const string SectionName = "Operator";

    public DriverKind Driver { get; set; } = DriverKind.Local;

    /// <summary>The namespace Workspace resources (and their pods and claims) live in.</summary>
    public string Namespace { get; set; } = "workspaces";

    /// <summary>The gateway's Redis, where the operator writes routes and shares and publishes their changes, as the operator's own Redis user.</summary>
    public RedisConnectionOptions Redis { get; set; } = new();

    public RoutePublishingOptions Routes { get; set; } = new();

    public ReconcileOptions Reconcile { get; set; } = new();

    public ApiOptions Api { get; set; } = new();

    public KubernetesOptions Kubernetes { get; set; } = new();

    public LocalOptions Local { get; set; } = new();

    /// <summary>
    /// A JSON (with comments) file of VS Code settings written as each editor's machine settings at every start,
    /// on either driver (config/editor-settings.json: AI features, telemetry and the welcome tab off); empty: none.
    /// </summary>
    public string EditorSettingsFile { get; set; } = "";

    /// <summary>OpenTelemetry export over OTLP; off unless an endpoint is set.</summary>
    public TelemetryExportOptions Telemetry { get; set; } = new();
}

public sealed class RoutePublishingOptions
{
    /// <summary>Renamed to <c>Operator:Redis:Configuration</c>; still set, it stops the start with a sentence saying so.</summary>
    [RenamedSetting("Operator:Redis:Configuration")]
    public string? Redis { get; set; }

    public string HashKey { get; set; } = RouteStore.HostsKey;

    /// <summary>Redis hash of each workspace's shared ports (<c>sid -> "3000=public"</c>); must match the gateway's Gateway:Routes:SharesHashKey.</summary>
    public string SharesHashKey { get; set; } = RouteStore.SharesKey;

    public string InvalidationChannel { get; set; } = RouteStore.InvalidationChannel;
}

public sealed class ReconcileOptions
{
    /// <summary>Workspaces reconciled at once (one key is never reconciled twice at the same time).</summary>
    public int Workers { get; set; } = 4;

    /// <summary>Every workspace is reconciled again this often even without events (level-triggered).</summary>
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How soon a starting or stopping workspace is looked at again.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First retry after an error; doubles per consecutive failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(1);
}

public sealed class ApiOptions
{
    /// <summary>When set, callers (the web API) must send <c>Authorization: Bearer &lt;token&gt;</c>.</summary>
    public string Token { get; set; } = "";

    /// <summary>How long start/stop/delete wait for the result when the caller does not say.</summary>
    public TimeSpan DefaultWait { get; set; } = TimeSpan.FromMinutes(2);

    public TimeSpan MaxWait { get; set; } = TimeSpan.FromMinutes(10);
}

public sealed class KubernetesOptions
{
    /// <summary>API server address; empty: the kubeconfig file, or the pod's service account in a cluster.</summary>
    public string Server { get; set; } = "";

    /// <summary>Bearer token for <see cref="Server"/>.</summary>
    public string Token { get; set; } = "";

    /// <summary>kubeconfig path; empty: <c>KUBECONFIG</c> or <c>~/.kube/config</c> outside a cluster.</summary>
    public string KubeConfig { get; set; } = "";

    /// <summary>Empty: the cluster's default storage class.</summary>
    public string StorageClass { get; set; } = "";

    /// <summary><c>ReadWriteOnce</c>: one pod at a time uses a workspace's volume (the old platform used ReadWriteMany).</summary>
    public string VolumeAccessMode { get; set; } = "ReadWriteOnce";

    public string ImagePullPolicy { get; set; } = "IfNotPresent";

    /// <summary>Seconds a stopping editor gets after SIGTERM.</summary>
    public int TerminationGracePeriodSeconds { get; set; } = 10;

    public LeaderElectionOptions LeaderElection { get; set; } = new();
}

public sealed class LeaderElectionOptions
{
    public bool Enabled { get; set; } = true;

    public string LeaseName { get; set; } = "workspace-operator";

    /// <summary>Empty: the operator's own namespace (POD_NAMESPACE or the service account's).</summary>
    public string LeaseNamespace { get; set; } = "";

    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(5);
}

public sealed class LocalOptions
{
    /// <summary>Each workspace's data directory lives under here, and the Workspace list in workspaces.json.</summary>
    public string DataDirectory { get; set; } = "data/workspaces";

    /// <summary>The code-server executable; empty: .tools/bin/code-server (./run.sh installs code-server and writes it), then PATH.</summary>
    public string CodeServer { get; set; } = "";

    /// <summary>How long a started editor may take to answer /healthz before the start is reported stuck.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a stopping editor gets after SIGTERM before SIGKILL.</summary>
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether each editor runs as a user of its own (<see cref="EditorIsolation"/>).</summary>
    public EditorIsolation Isolation { get; set; } = EditorIsolation.Auto;

    /// <summary>Moved to <c>Operator:EditorSettingsFile</c> (both drivers); still set, it stops the start with a sentence saying so.</summary>
    [RenamedSetting("Operator:EditorSettingsFile")]
    public string? EditorSettingsFile { get; set; }

    /// <summary>The first uid (and gid) given to a workspace's user; each workspace takes the next free one above it.</summary>
    public uint FirstEditorUid { get; set; } = 2_000_000;
}

/// <summary>Who a local editor, and so the user's terminal, runs as.</summary>
public enum EditorIsolation
{
    /// <summary><see cref="Users"/> when the operator runs as root, else <see cref="None"/> (said at start).</summary>
    Auto,

    /// <summary>
    /// Each workspace's editor runs as a user of its own (<c>cide&lt;uid&gt;</c>, created on first start, removed
    /// with the workspace), owning only its folder, listening on a Unix socket inside it: it can read neither
    /// the platform's keys nor another workspace's files, nor reach another editor. Needs root.
    /// </summary>
    Users,

    /// <summary>Every editor runs as the operator's own user on a loopback port: for one trusted person.</summary>
    None,
}
