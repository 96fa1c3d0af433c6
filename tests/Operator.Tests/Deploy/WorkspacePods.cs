using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using WorkspaceOperator.Configuration;
using WorkspaceOperator.Workspaces;

namespace WorkspaceOperator.Tests.Deploy;

/// <summary>The pod the operator's Kubernetes driver creates for a workspace: what the manifests' policies must fit.</summary>
internal static class WorkspacePods
{
    public static V1Pod For(string sid, int port = 9999)
    {
        var driver = new KubernetesWorkspaceDriver(kubernetes: null!, Options.Create(new OperatorOptions()), NullLogger<KubernetesWorkspaceDriver>.Instance);
        return driver.NewPod(new Workspace
        {
            Metadata = new V1ObjectMeta { Name = sid, NamespaceProperty = "workspaces", Uid = Guid.NewGuid().ToString() },
            Spec = new WorkspaceSpec { Image = "registry.example/cloud-ide/go:1.24", Port = port },
        });
    }
}
