using Contracts.Workspaces;

namespace Contracts.Tests.Workspaces;

public sealed class WorkspaceReasonsTests
{
    [Fact]
    public void A_start_moves_through_its_steps_in_the_order_the_drivers_report_them()
    {
        // Kubernetes: scheduled, volume attached, editor created and probed; the local driver starts at the editor.
        string[] kubernetes = [WorkspaceReasons.Requested, WorkspaceReasons.Scheduling, WorkspaceReasons.VolumeAttaching, WorkspaceReasons.EditorCreating, WorkspaceReasons.Probing, WorkspaceReasons.Running];
        Assert.Equal([0, 0, 1, 2, 2, 3], kubernetes.Select(WorkspaceReasons.StepOf));
        string[] local = [WorkspaceReasons.EditorStarting, WorkspaceReasons.EditorBackOff, WorkspaceReasons.EditorRestarting, WorkspaceReasons.Probing];
        Assert.All(local, reason => Assert.Equal(2, WorkspaceReasons.StepOf(reason)));
        Assert.All(kubernetes.Select(WorkspaceReasons.StepOf), step => Assert.InRange(step, 0, WorkspaceReasons.Steps - 1));
    }

    [Fact]
    public void A_reason_that_is_no_step_shows_the_first()
    {
        Assert.Equal(0, WorkspaceReasons.StepOf(null));
        Assert.Equal(0, WorkspaceReasons.StepOf(WorkspaceReasons.ResourcesExhausted));
        Assert.Equal(0, WorkspaceReasons.StepOf("SomethingNew"));
    }
}
