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

    /// <summary>Size of the streamed upload, answered by the echo backend once it has read every byte.</summary>
    public const int UploadBytes = 64 << 20;

    /// <summary>
    /// A 64 MiB POST streamed through the proxy (a folder dropped into the editor, an artifact pushed to a dev
    /// server): request-body MiB/s and the proxy's CPU per MiB. The backend reads the whole body before it
    /// answers, so each upload is timed end to end.
    /// </summary>
    public static async Task<LargeResponseRun?> UploadAsync(BenchStack stack, Target target, int connections, TimeSpan duration, int core)
    {
        Console.WriteLine($"    upload: 64 MiB over {connections} connections");
        var script = Path.Combine(stack.RunDirectory, "upload.lua");
        await File.WriteAllTextAsync(script, $"""
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/octet-stream"
            wrk.body = string.rep("x", {UploadBytes})
            """);
        var wrk = await Wrk.RunAsync(target, target.Process ?? stack.Echo, connections, duration, core, target.WebSocketPath + "upload", target.WebSocketPort, script);
        if (wrk is null)
        {
            return null;
        }

        // A refused upload (the old platform's 1 MiB default) moved no body: no throughput to report.
        var megabytes = UploadBytes / (1024.0 * 1024.0);
        return new LargeResponseRun("64m upload", UploadBytes, wrk.Errors > 0 ? 0 : wrk.RequestsPerSecond * megabytes, wrk.ServerCpuMicrosecondsPerRequest / 1000 / megabytes, wrk.Errors);
    }
}
