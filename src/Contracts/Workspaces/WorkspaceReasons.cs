namespace Contracts.Workspaces;

/// <summary>
/// The stable words the operator gives for what a workspace is doing (<see cref="WorkspaceInfo.Reason"/>, beside
/// its phase and a sentence): its drivers say them, the web API turns them into steps and advice for the user.
/// </summary>
public static class WorkspaceReasons
{
    // On the way to Running, in the order they come (the local driver starts at the editor).
    public const string Requested = "Requested";
    public const string Scheduling = "Scheduling";
    public const string VolumeAttaching = "VolumeAttaching";
    public const string EditorCreating = "EditorCreating";
    public const string EditorStarting = "EditorStarting";
    public const string EditorRestarting = "EditorRestarting";
    public const string EditorBackOff = "EditorBackOff";
    public const string Probing = "Probing";

    public const string Running = "Running";
    public const string Stopping = "Stopping";
    public const string Stopped = "Stopped";
    public const string Deleting = "Deleting";

    // Why it will not run: each said to the user with what to do.
    public const string ResourcesExhausted = "ResourcesExhausted";
    public const string ImagePullFailed = "ImagePullFailed";
    public const string EditorFailing = "EditorFailing";
    public const string EditorNotAnswering = "EditorNotAnswering";
    public const string EditorMissing = "EditorMissing";

    /// <summary>The operator API's answer when the workspace did not get there within the call's wait.</summary>
    public const string TimedOut = "TimedOut";

    /// <summary>The steps a start is shown in: Scheduled, Volume attached, Editor starting, then Ready.</summary>
    public const int Steps = 4;

    /// <summary>Which of the <see cref="Steps"/> a workspace on its way to Running is in, by its reason.</summary>
    public static int StepOf(string? reason) => reason switch
    {
        VolumeAttaching => 1,
        EditorCreating or EditorStarting or EditorRestarting or EditorBackOff or Probing => 2,
        Running => 3,
        _ => 0,
    };
}
