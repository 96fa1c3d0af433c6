using System.Diagnostics;
using System.Globalization;
using Bench.Load;
using Bench.Servers;
using StackExchange.Redis;

namespace Bench.Faults;

/// <summary>
/// <c>bench/run.sh --faults</c>: three gateways behind HAProxy carrying editor-like traffic, and one fault after
/// another under it: a replica killed, a rolling restart, a route moved, Redis restarted and hung, a workspace
/// killed and started elsewhere, the operator and the web API killed mid-start. Each is checked against what a
/// user should see (the targets in the report).
/// </summary>
internal static class FaultScenario
{
    public const int Replicas = 3;

    private const string MovingSid = "moving";

    public static TrafficShape Shape(bool quick) => quick
        ? new TrafficShape(WebSockets: 60, MessageInterval: TimeSpan.FromMilliseconds(500), PageClients: 4, PagePause: TimeSpan.FromMilliseconds(25))
        : new TrafficShape(WebSockets: 300, MessageInterval: TimeSpan.FromMilliseconds(500), PageClients: 8, PagePause: TimeSpan.FromMilliseconds(25));

    /// <param name="buildDirectory">Where the operator, the web API and the stand-in editor were published (<see cref="ControlPlane.Publish"/>).</param>
    public static async Task<ReliabilityReport> RunAsync(string repoRoot, string gatewayDirectory, string buildDirectory, string runDirectory, bool quick, Dictionary<string, string> machine, Dictionary<string, string> versions)
    {
        var shape = Shape(quick);
        var steady = TimeSpan.FromSeconds(quick ? 5 : 15);
        var rows = new List<FaultRow>();
        var checks = new List<ReliabilityCheck>();
        Latency propagation;

        var run = await ReplicaHarness.StartAsync(repoRoot, gatewayDirectory, runDirectory, Replicas, shape);
        try
        {
            var recorder = run.Recorder;
            run.Mark($"{Replicas} gateways behind HAProxy; opening {shape.WebSockets} editors' WebSockets");
            checks.Add(Check("every editor's WebSocket opens through the balancer", "all within 30 s", await run.Traffic.AllOpenAsync(TimeSpan.FromSeconds(30)), $"{run.Traffic.OpenWebSockets} of {shape.WebSockets}"));

            // The runtime's tiers and the pools settle first; then steady load, the reference for every latency below.
            await Task.Delay(quick ? TimeSpan.FromSeconds(2) : TimeSpan.FromSeconds(10));
            var calm = recorder.BeginPhase("steady load");
            rows.Add(ReplicaHarness.Row(recorder.Phases[0], null, "the editors open their sockets on gateways just started, then settle (not the reference)"));
            await Task.Delay(steady);
            var calmP99 = ReplicaHarness.P(calm.Echo(), 99);
            var calmSockets = run.Traffic.OpenWebSockets;
            recorder.BeginPhase("-");
            rows.Add(ReplicaHarness.Row(calm, null, $"{shape.WebSockets} WebSockets, one 64-byte message each per ~{shape.MessageInterval.TotalMilliseconds:F0} ms; {shape.PageClients} page clients"));

            await KillOneAsync(run, rows, checks, calmP99, quick);
            await RollAsync(run, rows, checks, quick);
            propagation = await MoveRoutesAsync(run, rows, checks, quick ? 10 : 30);
            await ActivityOfEveryReplicaAsync(run, checks);
            await RestartRedisAsync(run, rows, checks);
            await HangRedisAsync(run, rows, checks);
            await MoveWorkspaceAsync(run, rows, checks);
            using (var plane = await ControlPlane.StartAsync(repoRoot, buildDirectory, runDirectory, run.Stack.RedisPort, run.Stack.BalancerPort))
            {
                await ControlPlaneFaults.RunAsync(run, plane, rows, checks);
            }

            var after = recorder.BeginPhase("after the faults");
            await Task.Delay(steady);
            recorder.BeginPhase("-");
            rows.Add(ReplicaHarness.Row(after, null, "the same load once more"));
            checks.Add(Check("latency after the faults is as before them", "echo p99 ≤ 2× steady", ReplicaHarness.P(after.Echo(), 99) <= 2 * Math.Max(calmP99, 1), $"{ReplicaHarness.P(after.Echo(), 99):F2} vs {calmP99:F2} ms"));
            checks.Add(Check("every editor has its socket again", $"{calmSockets} open", await run.Traffic.AllOpenAsync(TimeSpan.FromSeconds(10)), $"{run.Traffic.OpenWebSockets} open"));
            await ConsistencyAsync(run, checks);

        }
        finally
        {
            await run.DisposeAsync();
        }

        var errors = ErrorsLogged(runDirectory);
        checks.Add(Check("no program logs an error through it all (every fault here is one the platform is built to ride out)", "0 Error or Critical lines", errors.Count == 0, errors.Count == 0 ? "none" : string.Join("; ", errors.Take(5))));
        var all = rows.Sum(r => r.Succeeded + r.Retried + r.RetryableAnswers + r.Failed);
        checks.Add(Check("no data lost: every upload stored whole, every page and echo as sent", "0 wrong answers", rows.Sum(r => r.Corrupted) == 0, $"{rows.Sum(r => r.Corrupted)} of {all:N0} requests and {rows.Sum(r => r.Messages):N0} echoes"));

        return new ReliabilityReport("faults", DateTimeOffset.UtcNow, machine, versions, shape, Replicas, rows, checks, run.Marks, run.Recorder.Disconnects, run.Timeline(), propagation, null);
    }

    /// <summary>kill -9 of one replica: its sockets end at once and reopen on the others within 1 s; the others' clients see nothing.</summary>
    private static async Task KillOneAsync(ReplicaHarness run, List<FaultRow> rows, List<ReliabilityCheck> checks, double calmP99, bool quick)
    {
        var victim = run.Stack.Replicas[0];
        var phase = run.Recorder.BeginPhase($"kill -9 of {victim.Name}");
        run.Mark($"kill -9 {victim.Name}");
        victim.Process.Signal("KILL");
        var killedAt = run.Recorder.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(quick ? 3 : 5));
        var reopened = await run.Traffic.AllOpenAsync(TimeSpan.FromSeconds(10));
        run.Recorder.BeginPhase("-");

        var onVictim = phase.Disconnects.Where(d => d.Replica == victim.Name).ToList();
        var elsewhere = phase.Disconnects.Count - onVictim.Count;
        var noticed = onVictim.Count == 0 ? double.NaN : onVictim.Max(d => d.AtSeconds - killedAt) * 1000;
        var reconnect = onVictim.Count == 0 ? double.NaN : onVictim.Max(d => d.ReconnectedMilliseconds ?? double.PositiveInfinity);
        var othersP99 = ReplicaHarness.P(phase.Echo(r => r != victim.Name), 99);
        var back = onVictim.Count == 0 ? double.NaN : onVictim.Max(d => d.AtSeconds + ((d.ReconnectedMilliseconds ?? double.PositiveInfinity) / 1000)) - killedAt;
        rows.Add(ReplicaHarness.Row(phase, back, $"{onVictim.Count} sockets were on {victim.Name}; recovery: all open again"));
        checks.Add(Check($"sockets on the killed replica end at once", "noticed ≤ 1 s after the kill", onVictim.Count > 0 && noticed <= 1000, $"{onVictim.Count} ended, the last noticed after {noticed:F0} ms ({Hows(onVictim)})"));
        checks.Add(Check("their editors reconnect through HAProxy to the others", "≤ 1 s", reopened && reconnect <= 1000, $"slowest {reconnect:F0} ms"));
        checks.Add(Check("editors on the other replicas see nothing", "0 disconnects, echo p99 ≤ 2× steady", elsewhere == 0 && othersP99 <= 2 * Math.Max(calmP99, 1), $"{elsewhere} disconnects; p99 {othersP99:F2} ms (steady {calmP99:F2})"));

        await run.Stack.RestartAsync(victim);
        var up = await run.Balancer.WaitUntilUpAsync(victim.Name, TimeSpan.FromSeconds(30));
        run.Mark($"{victim.Name} started again, in rotation after {up.TotalSeconds:F1} s");
    }

    /// <summary>SIGTERM to each replica in turn, started again once out: readiness first, so no HTTP request fails.</summary>
    private static async Task RollAsync(ReplicaHarness run, List<FaultRow> rows, List<ReliabilityCheck> checks, bool quick)
    {
        var phase = run.Recorder.BeginPhase("rolling restart (SIGTERM)");
        var clock = Stopwatch.StartNew();
        var stops = new List<double>();
        foreach (var replica in run.Stack.Replicas)
        {
            run.Mark($"SIGTERM {replica.Name}");
            var stopping = Stopwatch.StartNew();
            replica.Process.Signal("TERM");
            using (var patience = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await replica.Process.WaitForExitAsync(patience.Token);
            }

            stops.Add(stopping.Elapsed.TotalSeconds);
            await run.Stack.RestartAsync(replica);
            await run.Balancer.WaitUntilUpAsync(replica.Name, TimeSpan.FromSeconds(30));
            await run.Traffic.AllOpenAsync(TimeSpan.FromSeconds(10));
            // Let the others' sockets settle before the next goes: a real roll waits for the new pod's readiness too.
            await Task.Delay(TimeSpan.FromSeconds(quick ? 1 : 2));
        }

        run.Recorder.BeginPhase("-");
        var row = ReplicaHarness.Row(phase, clock.Elapsed.TotalSeconds, $"each replica out in {string.Join(" / ", stops.Select(s => s.ToString("F1", CultureInfo.InvariantCulture)))} s (2 s of readiness first); recovery: the whole roll");
        rows.Add(row);
        checks.Add(Check("no HTTP request fails during a rolling restart", "0 failed", row.Failed + row.RetryableAnswers == 0, $"{row.Failed} failed, {row.RetryableAnswers} retryable answers, {row.Retried} retried of {row.Succeeded + row.Retried:N0}"));
        var closes = phase.Disconnects;
        checks.Add(Check("editors are told 1001 (going away) and reconnect", "every close 1001", closes.Count > 0 && closes.All(d => d.How == "1001"), $"{closes.Count} closes ({Hows(closes)}), slowest reconnect {(closes.Count == 0 ? 0 : closes.Max(d => d.ReconnectedMilliseconds ?? double.PositiveInfinity)):F0} ms"));
    }

    /// <summary>A workspace moved back and forth while the traffic flows; every replica asked directly after each move.</summary>
    private static async Task<Latency> MoveRoutesAsync(ReplicaHarness run, List<FaultRow> rows, List<ReliabilityCheck> checks, int moves)
    {
        var phase = run.Recorder.BeginPhase($"route moved {moves} times");
        run.Mark($"route moves ×{moves}");
        var propagation = new LatencyRecorder();
        await run.MoveAsync(MovingSid, toTwo: false, TimeSpan.FromSeconds(5));
        for (var i = 0; i < moves; i++)
        {
            foreach (var milliseconds in await run.MoveAsync(MovingSid, toTwo: i % 2 == 0, TimeSpan.FromSeconds(5)))
            {
                if (double.IsFinite(milliseconds))
                {
                    propagation.Record((long)(milliseconds * 1000));
                }
                else
                {
                    propagation.Errors++;
                }
            }

            await Task.Delay(200);
        }

        run.Recorder.BeginPhase("-");
        var latency = propagation.Summarize();
        rows.Add(ReplicaHarness.Row(phase, null, $"HSET + PUBLISH to the first answer from the new backend on each of {Replicas} replicas: p50 {latency.P50:F2}, p99 {latency.P99:F2} ms"));
        checks.Add(Check("a moved route reaches every replica", "p99 ≤ 50 ms", latency.Errors == 0 && latency.P99 <= 50, $"p99 {latency.P99:F2} ms, max {latency.Max:F2} ms over {latency.Count} replica-moves, {latency.Errors} not seen in 5 s"));
        return latency;
    }

    /// <summary>A workspace used through one replica only is recorded as used (the idle stopper reads the same set).</summary>
    private static async Task ActivityOfEveryReplicaAsync(ReplicaHarness run, List<ReliabilityCheck> checks)
    {
        var used = await UseThroughEachReplicaAsync(run, "used-on");
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var seen = await ActivitySeenAsync(run, used);
        checks.Add(Check("activity on any replica is seen by idle stop", "each replica's workspace in the activity set, at or after its use", seen.All(s => s.Seen), string.Join(", ", seen.Select(s => s.Text))));
    }

    private static async Task RestartRedisAsync(ReplicaHarness run, List<FaultRow> rows, List<ReliabilityCheck> checks)
    {
        // Workspaces each replica has served (and cached) before, used again while Redis is down.
        await UseThroughEachReplicaAsync(run, "used-in-restart-on");
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var phase = run.Recorder.BeginPhase("Redis restarted");
        run.Mark("Redis restarted (SIGTERM, 2 s down)");
        var clock = Stopwatch.StartNew();
        List<(string Sid, long At)> used = [];
        await run.Stack.RestartRedisAsync(TimeSpan.FromSeconds(2), async () => used = await UseThroughEachReplicaAsync(run, "used-in-restart-on"));
        var recovery = await NewRouteEverywhereAsync(run, "after-restart", clock);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var seen = await ActivitySeenAsync(run, used);
        checks.Add(Check("use while Redis is down still reaches idle stop", "recorded once Redis is back", seen.All(s => s.Seen), string.Join(", ", seen.Select(s => s.Text))));
        run.Recorder.BeginPhase("-");
        var row = ReplicaHarness.Row(phase, recovery, "recovery: a route written after the restart answered by every replica");
        rows.Add(row);
        checks.Add(Check("a Redis restart costs the cached workspaces nothing", "0 failed, 0 disconnects", row.Failed + row.RetryableAnswers == 0 && row.Disconnects == 0, $"{row.Failed} failed, {row.RetryableAnswers} retryable, {row.Disconnects} disconnects; new routes served {recovery:F2} s after the stop"));
    }

    private static async Task HangRedisAsync(ReplicaHarness run, List<FaultRow> rows, List<ReliabilityCheck> checks)
    {
        // Workspaces each replica has served (and cached) before Redis hangs, used again during the hang.
        await UseThroughEachReplicaAsync(run, "used-in-hang-on");
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var phase = run.Recorder.BeginPhase("Redis hung 10 s");
        run.Mark("Redis hung (SIGSTOP) for 10 s");
        var clock = Stopwatch.StartNew();
        run.Stack.RedisServer.Signal("STOP");
        List<(string Sid, long At)> used;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            // Used during the hang, each through its replica: that use must still reach idle stop.
            used = await UseThroughEachReplicaAsync(run, "used-in-hang-on");
            await Task.Delay(TimeSpan.FromSeconds(8));
        }
        finally
        {
            run.Stack.RedisServer.Signal("CONT");
        }

        run.Mark("Redis answers again");
        var recovery = await NewRouteEverywhereAsync(run, "after-hang", clock);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var seen = await ActivitySeenAsync(run, used);
        run.Recorder.BeginPhase("-");
        var row = ReplicaHarness.Row(phase, recovery, "recovery: a route written after the hang answered by every replica (from the start of the hang)");
        rows.Add(row);
        checks.Add(Check("a hung Redis costs the cached workspaces nothing", "0 failed, 0 disconnects", row.Failed + row.RetryableAnswers == 0 && row.Disconnects == 0, $"{row.Failed} failed, {row.RetryableAnswers} retryable, {row.Disconnects} disconnects"));
        checks.Add(Check("use during a Redis hang still reaches idle stop", "recorded once Redis answers", seen.All(s => s.Seen), string.Join(", ", seen.Select(s => s.Text))));
    }

    /// <summary>The echo workspace's node dies; the workspace starts elsewhere and its route is rewritten: editors find it again.</summary>
    private static async Task MoveWorkspaceAsync(ReplicaHarness run, List<FaultRow> rows, List<ReliabilityCheck> checks)
    {
        var phase = run.Recorder.BeginPhase("workspace killed, started elsewhere");
        run.Mark("workspace killed (kill -9), back on a new address 1 s later");
        var clock = Stopwatch.StartNew();
        await run.Stack.MoveEchoAsync(TimeSpan.FromSeconds(1));
        var open = await run.Traffic.AllOpenAsync(TimeSpan.FromSeconds(30));
        var recovery = clock.Elapsed.TotalSeconds;
        await Task.Delay(TimeSpan.FromSeconds(2));
        run.Recorder.BeginPhase("-");
        var row = ReplicaHarness.Row(phase, recovery, "recovery: every editor's socket open on the new address");
        rows.Add(row);
        checks.Add(Check("editors of a moved workspace find it at its new address", "all reconnected once it is back", open, $"all open {recovery:F2} s after the kill; {row.Disconnects} disconnects ({Hows(phase.Disconnects)}); {row.RetryableAnswers + row.Retried} requests told to retry, {row.Failed} failed (uploads in flight)"));
    }

    /// <summary>Redis, the gateways and the processes agree once the faults are over.</summary>
    private static async Task ConsistencyAsync(ReplicaHarness run, List<ReliabilityCheck> checks)
    {
        var hosts = (await run.Redis.HashGetAllAsync("hosts")).ToDictionary(e => e.Name.ToString(), e => e.Value.ToString(), StringComparer.Ordinal);
        var echo = $"127.0.0.1:{run.Stack.EchoPort}";
        checks.Add(Check("Redis routes the moved workspace to its new address", echo, hosts.GetValueOrDefault(BenchStack.WebSocketSid) == echo, hosts.GetValueOrDefault(BenchStack.WebSocketSid) ?? "no route"));
        var alive = run.Stack.Replicas.Count(r => !r.Process.HasExited);
        var sample = run.Sample();
        checks.Add(Check("every replica is running and in rotation", $"{Replicas} UP", alive == Replicas && (await run.Balancer.StatusAsync()).Values.All(s => s == "UP"), $"{alive} running; HAProxy: {string.Join(", ", (await run.Balancer.StatusAsync()).Select(s => $"{s.Key} {s.Value}"))}"));
        checks.Add(Check("no connection left to a workspace that is gone", "connections ≤ editors + page clients' pools", sample is { } s && s.WorkspaceConnections <= run.Traffic.OpenWebSockets + 64, sample is null ? "no sample" : $"{sample.WorkspaceConnections} connections for {run.Traffic.OpenWebSockets} sockets"));
    }

    private static async Task<List<(string Sid, long At)>> UseThroughEachReplicaAsync(ReplicaHarness run, string prefix)
    {
        var used = new List<(string, long)>();
        foreach (var replica in run.Stack.Replicas)
        {
            var sid = $"{prefix}-{replica.Name}";
            // Fire and forget: during a hang the route is already there (and cached by the replica).
            await run.Redis.HashSetAsync("hosts", sid, $"127.0.0.1:{run.Stack.BackendOnePort}", flags: CommandFlags.FireAndForget);
            using var probe = new RawHttpConnection(replica.Port, $"/ws/{sid}/");
            var at = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (await probe.SendAsync(CancellationToken.None) != 200)
            {
                throw new InvalidOperationException($"{replica.Name} did not serve {sid}");
            }

            used.Add((sid, at));
        }

        return used;
    }

    private static async Task<List<(bool Seen, string Text)>> ActivitySeenAsync(ReplicaHarness run, List<(string Sid, long At)> used)
    {
        var seen = new List<(bool, string)>();
        foreach (var (sid, at) in used)
        {
            var score = await run.Redis.SortedSetScoreAsync("activity", sid);
            seen.Add((score >= at, score is null ? $"{sid} missing" : $"{sid} {score - at:+0;-0;0} s"));
        }

        return seen;
    }

    /// <summary>Writes a new route and waits until every replica serves it; seconds since <paramref name="since"/> started.</summary>
    private static async Task<double> NewRouteEverywhereAsync(ReplicaHarness run, string sid, Stopwatch since)
    {
        while (since.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                await run.Redis.HashSetAsync("hosts", sid, $"127.0.0.1:{run.Stack.BackendOnePort}");
                var answered = await Task.WhenAll(run.Stack.Replicas.Select(async r =>
                {
                    using var probe = new RawHttpConnection(r.Port, $"/ws/{sid}/");
                    return await probe.SendAsync(CancellationToken.None);
                }));
                if (answered.All(status => status == 200))
                {
                    return since.Elapsed.TotalSeconds;
                }
            }
            catch (RedisException)
            {
            }

            await Task.Delay(50);
        }

        return double.PositiveInfinity;
    }

    /// <summary>Error and Critical lines of the gateways', the operator's and the web API's logs (JSON lines), as "file: message".</summary>
    private static List<string> ErrorsLogged(string runDirectory)
    {
        var found = new List<string>();
        foreach (var log in Directory.EnumerateFiles(runDirectory, "*.log"))
        {
            foreach (var line in File.ReadLines(log))
            {
                if (line.Contains("\"LogLevel\":\"Error\"", StringComparison.Ordinal) || line.Contains("\"LogLevel\":\"Critical\"", StringComparison.Ordinal))
                {
                    using var entry = System.Text.Json.JsonDocument.Parse(line);
                    found.Add($"{Path.GetFileName(log)}: {entry.RootElement.GetProperty("Message").GetString()}");
                }
            }
        }

        return found;
    }

    private static string Hows(IReadOnlyCollection<Disconnect> disconnects) =>
        disconnects.Count == 0 ? "none" : string.Join(", ", disconnects.GroupBy(d => d.How).Select(g => $"{g.Count()}× {g.Key}"));

    private static ReliabilityCheck Check(string what, string target, bool passed, string measured) => new(what, target, measured, passed);
}
