using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Drivers.Kubernetes;
using Operator.Workspaces;

namespace Operator.Tests.Deploy;

/// <summary>The pod the operator's Kubernetes driver creates for a workspace: what the manifests' policies must fit.</summary>
internal static class WorkspacePods
{
    public static V1Pod For(string sid, int port = 9999, OperatorOptions? options = null)
    {
        var driver = new KubernetesWorkspaceDriver(kubernetes: null!, Options.Create(options ?? new OperatorOptions()), NullLogger<KubernetesWorkspaceDriver>.Instance);
        return driver.NewPod(new WorkspaceResource
        {
            Metadata = new V1ObjectMeta { Name = sid, NamespaceProperty = "workspaces", Uid = "0f8fad5b-d9cb-469f-a165-70867728950e" },
            Spec = new WorkspaceSpec { Image = "registry.example/cloud-ide/go:1.24", Port = port },
        });
    }
}
