using System.Diagnostics;
using Bench.Servers;
using StackExchange.Redis;

namespace Bench.Load;

internal sealed record ChurnRun(int Moves, int NotSeenWithin5s, Latency Propagation, HttpRun OthersWithoutChurn, HttpRun OthersWithChurn);

internal sealed record ColdRun(Latency Cold, Latency Warm);

/// <summary>Scenarios about the route table itself: moving workspaces and first requests for new ones.</summary>
internal static class RouteScenarios
{
    private const string ChurnSid = "churn";
    private static readonly RedisChannel Channel = RedisChannel.Literal("routes:changed");

    /// <summary>
    /// Moves one workspace back and forth between two backends (HSET + PUBLISH, as the operator will)
    /// while other traffic runs, measuring PUBLISH -> first request answered by the new backend, and what
    /// the churn does to everybody else's latency.
    /// </summary>
    public static async Task<ChurnRun> ChurnAsync(BenchStack stack, Target target, IDatabase redis, int connections, double rate, TimeSpan duration, string label)
    {
        var quiet = await HttpLoad.OpenLoopAsync(target, target.HttpPath, connections, rate, duration, label + " (no churn)");

        await redis.HashSetAsync("hosts", ChurnSid, $"127.0.0.1:{stack.BackendOnePort}");
        await redis.PublishAsync(Channel, ChurnSid);
        var load = HttpLoad.OpenLoopAsync(target, target.HttpPath, connections, rate, duration, label + " (churn)");

        var propagation = new LatencyRecorder();
        var moves = 0;
        var missed = 0;
        using var probe = new RawHttpConnection(target.Port, $"/ws/{ChurnSid}/");
        var onTwo = false;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration - TimeSpan.FromMilliseconds(500))
        {
            onTwo = !onTwo;
            var expected = onTwo ? (byte)'t' : (byte)'o';
            await redis.HashSetAsync("hosts", ChurnSid, $"127.0.0.1:{(onTwo ? stack.BackendTwoPort : stack.BackendOnePort)}");
            var published = Stopwatch.GetTimestamp();
            await redis.PublishAsync(Channel, ChurnSid);
            moves++;
            while (true)
            {
                var status = await probe.SendAsync(CancellationToken.None);
                if (status == 200 && probe.FirstBodyByte == expected)
                {
                    propagation.Record(LatencyRecorder.MicrosecondsSince(published));
                    break;
                }

                if (Stopwatch.GetElapsedTime(published) > TimeSpan.FromSeconds(5))
                {
                    missed++;
                    break;
                }
            }

            await Task.Delay(100);
        }

        return new ChurnRun(moves, missed, propagation.Summarize(), quiet, await load);
    }

    /// <summary>The first request for each of many new workspaces (a Redis lookup), then a second one (cached).</summary>
    public static async Task<ColdRun> ColdPathAsync(BenchStack stack, Target target, IDatabase redis, int sids)
    {
        var prefix = $"cold-{target.Name}-{Guid.NewGuid():N}"[..24];
        for (var i = 0; i < sids; i++)
        {
            await redis.HashSetAsync("hosts", $"{prefix}{i}", $"127.0.0.1:{stack.BackendOnePort}");
        }

        using var connection = new RawHttpConnection(target.Port, "/");
        var cold = new LatencyRecorder();
        var warm = new LatencyRecorder();
        foreach (var recorder in new[] { cold, warm })
        {
            for (var i = 0; i < sids; i++)
            {
                connection.Retarget($"/ws/{prefix}{i}/");
                var started = Stopwatch.GetTimestamp();
                if (await connection.SendAsync(CancellationToken.None) == 200)
                {
                    recorder.Record(LatencyRecorder.MicrosecondsSince(started));
                }
                else
                {
                    recorder.Errors++;
                }
            }
        }

        return new ColdRun(cold.Summarize(), warm.Summarize());
    }
}
