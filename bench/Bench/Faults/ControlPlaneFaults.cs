using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Bench.Servers;
using Contracts.Workspaces;

namespace Bench.Faults;

/// <summary>
/// The operator and then the web API killed with SIGKILL while users' workspaces are starting, and started again;
/// the users retry what was refused, as the page does. Afterwards the web API's database, the operator and Redis
/// must agree on every workspace, and once they are deleted nothing of them may be left: no editor process, no
/// folder, no route.
/// </summary>
internal static class ControlPlaneFaults
{
    // One running workspace per user is the web API's rule: a user each.
    private const int Users = 6;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    public static async Task RunAsync(ReplicaHarness run, ControlPlane plane, List<FaultRow> rows, List<ReliabilityCheck> checks)
    {
        var users = new List<PlatformUser>();
        try
        {
            for (var i = 1; i <= Users; i++)
            {
                users.Add(await PlatformUser.RegisterAsync(plane.WebApiPort, $"user{i}"));
            }

            // The operator killed while six workspaces are being created and started.
            var phase = run.Recorder.BeginPhase("operator killed -9 mid-start");
            run.Mark("operator killed (kill -9) while 6 workspaces start; started again 1 s later");
            var clock = Stopwatch.StartNew();
            var asked = users.Select(u => Task.Run(() => u.CreateAsync())).ToList();
            // Mid-start: some editors launched by the operator about to die, the others not yet.
            await Eventually(() => Task.FromResult(EditorCount(plane) >= Users / 2), TimeSpan.FromSeconds(20));
            var editorsAtKill = EditorCount(plane);
            plane.Operator.Signal("KILL");
            await Task.Delay(TimeSpan.FromSeconds(1));
            await plane.RestartOperatorAsync();
            await Task.WhenAll(asked);
            var running = await AllRunningAsync(users);
            var recovery = clock.Elapsed.TotalSeconds;
            run.Recorder.BeginPhase("-");
            rows.Add(Row(ReplicaHarness.Row(phase, recovery, $"{editorsAtKill} of the 6 editors had been started when it was killed; recovery: every workspace Running"), users));
            checks.Add(Check("workspaces started while the operator was killed all run", $"{Users} Running", running, $"{users.Count(u => u.State == "Running")} Running {recovery:F1} s after the kill; {Calls(users)}"));
            await AgreeAsync(run, plane, users, checks, "after the operator's kill");

            // The web API killed while the same workspaces, stopped, are being started again.
            await Task.WhenAll(users.Select(u => u.CallAsync(HttpMethod.Post, $"/api/workspaces/{u.Sid}/stop", expectRunning: false)));
            await AllAsync(users, "Stopped");
            users.ForEach(u => u.ResetCounts());
            phase = run.Recorder.BeginPhase("web API killed -9 mid-start");
            run.Mark("web API killed (kill -9) while 6 workspaces start; started again 1 s later");
            clock.Restart();
            asked = [.. users.Select(u => Task.Run(() => u.CallAsync(HttpMethod.Post, $"/api/workspaces/{u.Sid}/start", expectRunning: true)))];
            await Task.Delay(300);
            editorsAtKill = EditorCount(plane);
            plane.WebApi.Signal("KILL");
            await Task.Delay(TimeSpan.FromSeconds(1));
            await plane.RestartWebApiAsync();
            await Task.WhenAll(asked);
            running = await AllRunningAsync(users);
            recovery = clock.Elapsed.TotalSeconds;
            run.Recorder.BeginPhase("-");
            rows.Add(Row(ReplicaHarness.Row(phase, recovery, $"{editorsAtKill} of the 6 editors had been started when it was killed; recovery: every workspace Running, with the users' sessions from before the kill"), users));
            checks.Add(Check("workspaces started while the web API was killed all run, with the sessions from before", $"{Users} Running", running, $"{users.Count(u => u.State == "Running")} Running {recovery:F1} s after the kill; {Calls(users)}"));
            await AgreeAsync(run, plane, users, checks, "after the web API's kill");

            // Stopped and deleted, as a user does: nothing of them may be left.
            run.Mark("the 6 workspaces stopped and deleted");
            await Task.WhenAll(users.Select(u => u.CallAsync(HttpMethod.Post, $"/api/workspaces/{u.Sid}/stop", expectRunning: false)));
            await AllAsync(users, "Stopped");
            await Task.WhenAll(users.Select(u => u.CallAsync(HttpMethod.Delete, $"/api/workspaces/{u.Sid}", expectRunning: false)));

            var gone = await Eventually(async () => (await OperatorListAsync(plane)).Count == 0);
            run.Mark(gone ? "the operator lists none of them" : "the operator still lists some of them");
            await Task.Delay(TimeSpan.FromSeconds(1));
            var left = Leftovers(plane);
            var routes = 0;
            foreach (var user in users)
            {
                routes += await run.Redis.HashExistsAsync("hosts", user.Sid!) ? 1 : 0;
            }

            checks.Add(Check("deleted workspaces leave nothing behind", "no editor process, folder or route", gone && left.Processes.Count == 0 && left.Folders.Count == 0 && routes == 0, $"operator lists {(gone ? 0 : (await OperatorListAsync(plane)).Count)}; {left.Processes.Count} editor processes ({string.Join(' ', left.Processes)}), {left.Folders.Count} folders, {routes} routes"));
        }
        finally
        {
            users.ForEach(u => u.Dispose());
        }
    }

    /// <summary>Database (the web API's view), operator and Redis say the same of every workspace; one editor process per running one.</summary>
    private static async Task AgreeAsync(ReplicaHarness run, ControlPlane plane, List<PlatformUser> users, List<ReliabilityCheck> checks, string when)
    {
        var operatorView = (await OperatorListAsync(plane)).ToDictionary(w => w.Sid, StringComparer.Ordinal);
        var disagreements = new List<string>();
        foreach (var user in users)
        {
            var sid = user.Sid!;
            var web = await user.StateAsync();
            var seen = operatorView.GetValueOrDefault(sid);
            var route = (string?)await run.Redis.HashGetAsync("hosts", sid);
            var consistent = web == "Running"
                ? seen is { Phase: WorkspacePhase.Running } && route is not null && route == seen.Address
                : seen is null or { Phase: WorkspacePhase.Stopped } && route is null;
            if (!consistent)
            {
                disagreements.Add($"{sid}: web API {web}, operator {seen?.Phase ?? "none"} at {seen?.Address ?? "-"}, Redis {route ?? "no route"}");
            }
        }

        var strays = operatorView.Keys.Except(users.Select(u => u.Sid!)).ToList();
        var editors = EditorCount(plane);
        var expected = users.Count(u => u.State == "Running");
        checks.Add(Check($"database, operator and Redis agree ({when})", "same state and address for every workspace; one editor each", disagreements.Count == 0 && strays.Count == 0 && editors == expected, disagreements.Count + strays.Count == 0 ? $"{users.Count} agree; {editors} editor processes for {expected} running" : string.Join("; ", disagreements.Concat(strays.Select(s => $"{s}: unknown to the web API")))));
    }

    private static int EditorCount(ControlPlane plane) => Leftovers(plane).Processes.Count;

    private static (List<int> Processes, List<string> Folders) Leftovers(ControlPlane plane)
    {
        var processes = plane.EditorProcesses().Where(pid => pid != plane.Operator.Pid).ToList();
        // The driver's own folder (.editors: its pid files) stays; a workspace's folder is named after its sid.
        var folders = Directory.EnumerateDirectories(plane.WorkspacesDirectory).Select(Path.GetFileName).OfType<string>().Where(f => !f.StartsWith('.')).ToList();
        return (processes, folders);
    }

    private static async Task<List<WorkspaceInfo>> OperatorListAsync(ControlPlane plane)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await client.GetFromJsonAsync<List<WorkspaceInfo>>($"http://127.0.0.1:{plane.OperatorPort}{OperatorApiPaths.Workspaces}") ?? [];
    }

    private static async Task<bool> AllRunningAsync(List<PlatformUser> users) => await AllAsync(users, "Running");

    private static async Task<bool> AllAsync(List<PlatformUser> users, string state) =>
        await Eventually(async () =>
        {
            foreach (var user in users)
            {
                if (await user.StateAsync() != state)
                {
                    // A start the user saw refused is pressed again, as on the page.
                    if (state == "Running" && user.State is "Stopped" or "Failed")
                    {
                        await user.CallAsync(HttpMethod.Post, $"/api/workspaces/{user.Sid}/start", expectRunning: true);
                    }

                    return false;
                }
            }

            return true;
        });

    private static async Task<bool> Eventually(Func<Task<bool>> condition, TimeSpan? patience = null)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < (patience ?? Patience))
        {
            if (await condition())
            {
                return true;
            }

            // Fast where the moment matters (a kill mid-start); the platform's own pace otherwise.
            await Task.Delay(patience is null ? 250 : 20);
        }

        return false;
    }

    private static FaultRow Row(FaultRow traffic, List<PlatformUser> users) => traffic with
    {
        Notes = $"{traffic.Notes}; the users' calls: {Calls(users)}",
    };

    private static string Calls(List<PlatformUser> users) =>
        $"{users.Sum(u => u.Succeeded)} answered at once, {users.Sum(u => u.Retried)} retried after a clear answer or a refused connection, {users.Sum(u => u.Failed)} failed";

    private static ReliabilityCheck Check(string what, string target, bool passed, string measured) => new(what, target, measured, passed);
}
