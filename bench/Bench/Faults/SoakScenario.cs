using System.Diagnostics;
using Bench.Load;
using HdrHistogram;

namespace Bench.Faults;

/// <summary>
/// <c>bench/run.sh --soak</c>: the fault scenario's load for a long time, with a workspace moved every 2 s and
/// Redis restarted every 5 minutes (once, early, in a shorter run). What leaks grows with time, not with load:
/// the gateways' memory, threads, descriptors and connections to workspaces are fitted against time, and the run
/// fails when descriptors or connections grow while the traffic does not.
/// </summary>
internal static class SoakScenario
{
    private const string ChurnSid = "soak-churn";
    private static readonly TimeSpan RedisRestartEvery = TimeSpan.FromMinutes(5);

    public static async Task<ReliabilityReport> RunAsync(string repoRoot, string gatewayDirectory, string runDirectory, TimeSpan duration, Dictionary<string, string> machine, Dictionary<string, string> versions)
    {
        var shape = FaultScenario.Shape(quick: false);
        var checks = new List<ReliabilityCheck>();
        var propagation = new LatencyRecorder();
        var minutes = new List<PhaseRecord>();
        var run = await ReplicaHarness.StartAsync(repoRoot, gatewayDirectory, runDirectory, FaultScenario.Replicas, shape);
        try
        {
            run.Mark($"{FaultScenario.Replicas} gateways behind HAProxy; opening {shape.WebSockets} editors' WebSockets");
            var opened = await run.Traffic.AllOpenAsync(TimeSpan.FromSeconds(30));
            checks.Add(new("every editor's WebSocket opens through the balancer", "all within 30 s", $"{run.Traffic.OpenWebSockets} of {shape.WebSockets}", opened));

            // A shorter run restarts Redis once, early: the gateways' first reconnect opens a few descriptors once
            // (+23 for three, then flat through five more restarts in 30 minutes), which belongs in the warm-up
            // the slopes leave out, not in the two minutes they are fitted over.
            var restarts = new Queue<TimeSpan>(duration >= RedisRestartEvery
                ? Enumerable.Range(1, (int)(duration / RedisRestartEvery)).Select(i => i * RedisRestartEvery).Where(t => t < duration)
                : [duration / 10]);
            using var stopChurn = new CancellationTokenSource();
            var churn = ChurnAsync(run, propagation, stopChurn.Token);
            var clock = Stopwatch.StartNew();
            var minute = 0;
            while (clock.Elapsed < duration)
            {
                minutes.Add(run.Recorder.BeginPhase($"minute {++minute}"));
                var end = TimeSpan.FromMinutes(minute) < duration ? TimeSpan.FromMinutes(minute) : duration;
                while (clock.Elapsed < end)
                {
                    if (restarts.TryPeek(out var due) && clock.Elapsed >= due)
                    {
                        restarts.Dequeue();
                        run.Mark("Redis restarted (SIGTERM, 2 s down)");
                        await run.Stack.RestartRedisAsync(TimeSpan.FromSeconds(2));
                    }

                    await Task.Delay(TimeSpan.FromMilliseconds(200));
                }
            }

            await stopChurn.CancelAsync();
            await churn;
            run.Recorder.BeginPhase("-");
        }
        finally
        {
            await run.DisposeAsync();
        }

        var timeline = run.Timeline();
        var perMinute = minutes.Select((phase, i) =>
        {
            var echo = phase.Echo();
            var http = new LongHistogram(60_000_000, 2);
            phase.Http.AddTo(http);
            return new MinuteRow(
                i + 1,
                echo.TotalCount,
                ReplicaHarness.P(echo, 50),
                ReplicaHarness.P(echo, 99),
                ReplicaHarness.P(echo, 99.9),
                http.TotalCount,
                ReplicaHarness.P(http, 50),
                ReplicaHarness.P(http, 99),
                phase.Outcome(RequestOutcome.Retried) + phase.Outcome(RequestOutcome.RetryableAnswer) + phase.Outcome(RequestOutcome.Failed));
        }).ToList();

        // The first fifth is warm-up: the runtime's tiers, pools and the editors' sockets settle there.
        // The last second is cut short by the end of the traffic.
        var steady = timeline.Where(p => p.ResidentBytes > 0 && p.Second >= timeline.Count / 5 && p.Second < minutes[^1].EndSeconds - 1).ToList();
        var messages = Fit(steady, p => p.Messages, "editors' messages", "per second");
        var slopes = new List<Slope>
        {
            messages,
            Fit(steady, p => p.ResidentBytes / 1048576.0, "gateways' memory (RSS)", "MiB"),
            Fit(steady, p => p.Threads, "gateways' threads", "threads"),
            Fit(steady, p => p.Descriptors, "gateways' open descriptors", "descriptors"),
            Fit(steady, p => p.WorkspaceConnections, "gateways' connections to workspaces", "connections"),
        };

        // A leak grows with time at a steady load; a load that grows is not a leak (and says the run is not steady).
        var flatTraffic = Math.Abs(messages.PerMinute) <= 0.05 * Math.Max(1, Mean(steady, p => p.Messages));
        checks.Add(new("the load is steady (what the slopes below are read against)", "messages per second within ±5% per minute", $"{messages.PerMinute:+0.0;-0.0;0} per minute on {Mean(steady, p => p.Messages):F0}/s", flatTraffic));
        foreach (var slope in slopes.Skip(3))
        {
            var mean = Mean(steady, slope.Quantity.Contains("descriptors", StringComparison.Ordinal) ? p => p.Descriptors : p => p.WorkspaceConnections);
            var bound = Math.Max(10, 0.02 * mean);
            checks.Add(new($"no leak: {slope.Quantity}", $"slope ≤ {bound:F0} per minute (2% of {mean:F0}, at least 10)", $"{slope.PerMinute:+0.0;-0.0;0} per minute ({slope.First:F0} → {slope.Last:F0})", slope.PerMinute <= bound));
        }

        var notSeen = propagation.Errors;
        var moves = propagation.Summarize();
        checks.Add(new("moved routes keep reaching every replica", "p99 ≤ 50 ms, none missed", $"p99 {moves.P99:F2} ms over {moves.Count} replica-moves, {notSeen} not seen in 5 s", notSeen == 0 && moves.P99 <= 50));
        var failed = minutes.Sum(m => m.Outcome(RequestOutcome.Failed) + m.Outcome(RequestOutcome.RetryableAnswer));
        checks.Add(new("no request fails through the soak (Redis restarts included)", "0 failed", $"{failed} failed of {minutes.Sum(m => m.Outcome(RequestOutcome.Succeeded) + m.Outcome(RequestOutcome.Retried)):N0}", failed == 0));
        checks.Add(new("no data lost", "0 wrong answers", $"{minutes.Sum(m => m.Corrupted)}", minutes.Sum(m => m.Corrupted) == 0));

        var rows = minutes.Select(m => ReplicaHarness.Row(m, null, "")).ToList();
        return new ReliabilityReport("soak", DateTimeOffset.UtcNow, machine, versions, shape, FaultScenario.Replicas, rows, checks, run.Marks, run.Recorder.Disconnects, timeline, moves, new SoakSummary(duration.TotalMinutes, slopes, perMinute));
    }

    /// <summary>A workspace moved every 2 s, each move checked on every replica.</summary>
    private static async Task ChurnAsync(ReplicaHarness run, LatencyRecorder propagation, CancellationToken stop)
    {
        var toTwo = false;
        while (!stop.IsCancellationRequested)
        {
            toTwo = !toTwo;
            try
            {
                foreach (var milliseconds in await run.MoveAsync(ChurnSid, toTwo, TimeSpan.FromSeconds(5)))
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
            }
            catch (StackExchange.Redis.RedisException)
            {
                // Redis is being restarted: the operator's write would wait too; the next move goes after it.
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    private static double Mean(List<TimelinePoint> points, Func<TimelinePoint, double> value) => points.Count == 0 ? 0 : points.Average(value);

    /// <summary>Least-squares slope of a quantity against time, per minute.</summary>
    private static Slope Fit(List<TimelinePoint> points, Func<TimelinePoint, double> value, string quantity, string unit)
    {
        if (points.Count < 2)
        {
            return new Slope(quantity, unit, 0, 0, 0);
        }

        var meanT = points.Average(p => p.Second / 60.0);
        var meanY = points.Average(value);
        var covariance = points.Sum(p => ((p.Second / 60.0) - meanT) * (value(p) - meanY));
        var variance = points.Sum(p => Math.Pow((p.Second / 60.0) - meanT, 2));
        return new Slope(quantity, unit, Math.Round(covariance / variance, 2), Math.Round(value(points[0]), 1), Math.Round(value(points[^1]), 1));
    }
}
