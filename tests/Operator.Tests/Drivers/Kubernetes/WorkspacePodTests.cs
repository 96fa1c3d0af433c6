using Operator.Configuration;
using Operator.Drivers.Kubernetes;
using Operator.Tests.Deploy;
using Operator.Workspaces;

namespace Operator.Tests.Drivers.Kubernetes;

/// <summary>The workspace pod the Kubernetes driver asks for, beside what its start script does with it (<see cref="StartScriptTests"/>).</summary>
public sealed class WorkspacePodTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("pod-settings");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public void The_editor_gets_the_platforms_settings_and_new_settings_restart_no_running_workspace()
    {
        var settings = Path.Combine(_folder.FullName, "editor-settings.json");
        File.WriteAllText(settings, "// the platform's\n{ \"chat.disableAIFeatures\": true }");
        var configured = WorkspacePods.For("ws-alice", options: new OperatorOptions { EditorSettingsFile = settings });

        var variable = Assert.Single(configured.Spec.Containers[0].Env, e => e.Name == "CS_MACHINE_SETTINGS");
        Assert.Equal(File.ReadAllText(settings), variable.Value);

        // The spec hash decides whether a running pod is replaced: settings reach each editor at its next start.
        File.WriteAllText(settings, "{ \"chat.disableAIFeatures\": false }");
        var changed = WorkspacePods.For("ws-alice", options: new OperatorOptions { EditorSettingsFile = settings });
        var none = WorkspacePods.For("ws-alice");
        Assert.Equal(configured.Metadata.Annotations[KubernetesWorkspaceDriver.SpecHashAnnotation], changed.Metadata.Annotations[KubernetesWorkspaceDriver.SpecHashAnnotation]);
        Assert.Equal(configured.Metadata.Annotations[KubernetesWorkspaceDriver.SpecHashAnnotation], none.Metadata.Annotations[KubernetesWorkspaceDriver.SpecHashAnnotation]);
        Assert.DoesNotContain(none.Spec.Containers[0].Env, e => e.Name == "CS_MACHINE_SETTINGS");
    }
}
