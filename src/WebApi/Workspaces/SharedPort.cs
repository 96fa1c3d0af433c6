using Contracts.Sharing;

namespace WebApi.Workspaces;

/// <summary>
/// One dev-server port of a workspace shared beyond its owner (a port without a row is private). The
/// database keeps it; the operator is told the whole list, and the gateway follows from there.
/// </summary>
public sealed class SharedPort
{
    public long WorkspaceId { get; set; }

    public int Port { get; set; }

    public PortSharing Sharing { get; set; }
}
