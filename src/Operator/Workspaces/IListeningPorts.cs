namespace Operator.Workspaces;

/// <summary>A driver that can tell which TCP ports a running workspace listens on.</summary>
public interface IListeningPorts
{
    /// <summary>The ports, in order; null when the workspace's editor is not running here.</summary>
    IReadOnlyList<int>? ListeningPorts(string sid);
}
