using Bench.Servers;

namespace Bench.Load;

/// <param name="MegabytesPerSecond">Body bytes delivered per second (MiB/s), wrk closed loop.</param>
/// <param name="ServerCpuMillisecondsPerMegabyte">The measured server's CPU per MiB of body; for a proxy, excluding the backend.</param>
internal sealed record LargeResponseRun(string Size, int Bytes, double MegabytesPerSecond, double? ServerCpuMillisecondsPerMegabyte, long Errors);

internal static class LargeResponses
{
    /// <summary>
    /// Whole files through the proxy (an editor's workbench load pulls ~15 MB of scripts): a few connections,
    /// each asking for the next as soon as the last byte of the previous one arrived.
    /// </summary>
    public static async Task<List<LargeResponseRun>> RunAsync(BenchStack stack, Target target, int connections, TimeSpan duration, int core)
    {
        var runs = new List<LargeResponseRun>();
        foreach (var (name, bytes) in BenchStack.LargeBodies)
        {
            Console.WriteLine($"    large responses: {name} over {connections} connections");
            var wrk = await Wrk.RunAsync(target, target.Process ?? stack.Backend, connections, duration, core, target.HttpPath + "bytes/" + name);
            if (wrk is null)
            {
                continue;
            }

            var megabytes = bytes / (1024.0 * 1024.0);
            runs.Add(new LargeResponseRun(name, bytes, wrk.RequestsPerSecond * megabytes, wrk.ServerCpuMicrosecondsPerRequest / 1000 / megabytes, wrk.Errors));
        }

        return runs;
    }
}
