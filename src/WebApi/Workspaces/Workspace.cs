using WebApi.Accounts;
using WebApi.Catalog;

namespace WebApi.Workspaces;

public enum WorkspaceState
{
    Stopped,
    Starting,
    Running,
    Stopping,
    Deleting,
}

/// <summary>Why a workspace last stopped: the start page says it ("stopped 12 minutes ago, idle").</summary>
public enum StopCause
{
    /// <summary>Its owner pressed Stop.</summary>
    Owner,

    /// <summary>Nobody used it for the idle timeout.</summary>
    Idle,

    /// <summary>Stopped outside this web API: by an administrator, or by the operator itself.</summary>
    Operator,
}

public sealed class Workspace
{
    /// <summary>At most this many workspaces per user (the old platform's rule).</summary>
    public const int MaxPerUser = 20;

    /// <summary>The states that count as "running" for the one-running-workspace rule.</summary>
    public static readonly WorkspaceState[] Active = [WorkspaceState.Starting, WorkspaceState.Running, WorkspaceState.Stopping];

    public long Id { get; set; }

    /// <summary>The workspace id in gateway URLs and the operator's resource name: a DNS label.</summary>
    public required string Sid { get; set; }

    public long OwnerId { get; set; }

    public User? Owner { get; set; }

    public required string Name { get; set; }

    public int TemplateId { get; set; }

    public Template? Template { get; set; }

    public int SpecId { get; set; }

    public Spec? Spec { get; set; }

    public WorkspaceState State { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>When it last stopped; null while it runs and before its first start.</summary>
    public DateTimeOffset? StoppedAt { get; set; }

    public StopCause? StopCause { get; set; }

    /// <summary>Why the last start or stop failed, in words for the user; null after a success.</summary>
    public string? LastError { get; set; }

    /// <summary>Its dev-server ports shared beyond the owner; every other port is private.</summary>
    public List<SharedPort> SharedPorts { get; set; } = [];
}
