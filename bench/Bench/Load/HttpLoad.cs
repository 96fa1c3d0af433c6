using System.Diagnostics;
using System.Threading.Channels;
using Bench.Servers;

namespace Bench.Load;

internal sealed record HttpRun(double RequestsPerSecond, Latency Latency);

internal static class HttpLoad
{
    /// <summary>Maximum throughput: each connection sends its next request as soon as the last is answered.</summary>
    public static async Task<HttpRun> ClosedLoopAsync(Target target, string path, int connections, TimeSpan duration, string label)
    {
        await using var progress = new Progress(label, "req", duration);
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var parts = await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            var recorder = new LatencyRecorder();
            using var connection = new RawHttpConnection(target.Port, path);
            while (!stop.IsCancellationRequested)
            {
                var started = Stopwatch.GetTimestamp();
                var status = await SendAsync(connection);
                if (status is >= 200 and < 300)
                {
                    recorder.Record(LatencyRecorder.MicrosecondsSince(started));
                }
                else
                {
                    recorder.Errors++;
                }

                progress.Add();
            }

            return recorder;
        })));
        var merged = LatencyRecorder.Merge(parts);
        return new HttpRun(merged.Histogram.TotalCount / clock.Elapsed.TotalSeconds, merged.Summarize());
    }

    /// <summary>
    /// A fixed request rate, independent of how fast answers come back, with every latency measured from
    /// the moment the request was due (not sent): a stalled server is charged for every request it delayed,
    /// which corrects for coordinated omission (as wrk2 does).
    /// </summary>
    public static async Task<HttpRun> OpenLoopAsync(Target target, string path, int connections, double rate, TimeSpan duration, string label)
    {
        await using var progress = new Progress(label, "req", duration);
        var queues = Enumerable.Range(0, connections).Select(_ => Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true })).ToArray();
        var workers = queues.Select(queue => Task.Run(async () =>
        {
            var recorder = new LatencyRecorder();
            using var connection = new RawHttpConnection(target.Port, path);
            await foreach (var due in queue.Reader.ReadAllAsync())
            {
                var status = await SendAsync(connection);
                if (status is >= 200 and < 300)
                {
                    recorder.Record(LatencyRecorder.MicrosecondsSince(due));
                }
                else
                {
                    recorder.Errors++;
                }

                progress.Add();
            }

            return recorder;
        })).ToArray();

        var clock = Stopwatch.StartNew();
        await Task.Factory.StartNew(() => Schedule(queues, rate, duration), TaskCreationOptions.LongRunning);
        var parts = await Task.WhenAll(workers);
        var merged = LatencyRecorder.Merge(parts);
        return new HttpRun(merged.Histogram.TotalCount / clock.Elapsed.TotalSeconds, merged.Summarize());
    }

    // Timers tick in milliseconds; a dedicated thread that sleeps until ~1 ms before each due time and
    // yields after that keeps the schedule within tens of microseconds.
    private static void Schedule(Channel<long>[] queues, double rate, TimeSpan duration)
    {
        var start = Stopwatch.GetTimestamp();
        var interval = Stopwatch.Frequency / rate;
        var total = (long)(rate * duration.TotalSeconds);
        for (long i = 0; i < total; i++)
        {
            var due = start + (long)(i * interval);
            while (true)
            {
                var wait = due - Stopwatch.GetTimestamp();
                if (wait <= 0)
                {
                    break;
                }

                if (wait > Stopwatch.Frequency / 500)
                {
                    Thread.Sleep(1);
                }
                else
                {
                    Thread.Yield();
                }
            }

            queues[i % queues.Length].Writer.TryWrite(due);
        }

        foreach (var queue in queues)
        {
            queue.Writer.Complete();
        }
    }

    private static async ValueTask<int> SendAsync(RawHttpConnection connection)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            return await connection.SendAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return 0;
        }
    }
}
