using Bench.Servers;

namespace Bench.Load;

/// <param name="PathRuns">wrk on <c>/ws/&lt;sid&gt;/</c>; <paramref name="HostRuns"/> the same workspace as <c>&lt;sid&gt;.&lt;domain&gt;</c>, interleaved.</param>
internal sealed record HostRoutingRun(List<WrkRun> PathRuns, List<WrkRun> HostRuns);

internal static class HostRouting
{
    /// <summary>
    /// The gateway's two ways of addressing a workspace, same workspace, same cookie, alternated twice so that
    /// drift on the machine falls on both sides: whether routing by Host costs more than routing by path.
    /// </summary>
    public static async Task<HostRoutingRun> RunAsync(Target target, int connections, TimeSpan duration, int core)
    {
        var byPath = new List<WrkRun>();
        var byHost = new List<WrkRun>();
        for (var round = 0; round < 2; round++)
        {
            Console.WriteLine($"    host vs path routing, round {round + 1}");
            if (await Wrk.RunAsync(target, target.Process, connections, duration, core) is { } path)
            {
                byPath.Add(path);
            }

            if (await Wrk.RunAsync(target, target.Process, connections, duration, core, "/", host: $"{BenchStack.HttpSid}.{BenchStack.WorkspaceDomain}", hostSid: BenchStack.HttpSid) is { } host)
            {
                byHost.Add(host);
            }
        }

        return new HostRoutingRun(byPath, byHost);
    }
}
