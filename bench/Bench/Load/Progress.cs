using System.Diagnostics;

namespace Bench.Load;

/// <summary>One status line per second while a scenario runs, so a long run is never silent.</summary>
internal sealed class Progress : IAsyncDisposable
{
    private readonly string _label;
    private readonly string _unit;
    private readonly TimeSpan _duration;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _printer;
    private long _count;

    public Progress(string label, string unit, TimeSpan duration)
    {
        _label = label;
        _unit = unit;
        _duration = duration;
        _printer = PrintAsync();
    }

    public void Add(long n = 1) => Interlocked.Add(ref _count, n);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _printer;
        }
        catch (OperationCanceledException)
        {
        }

        Console.WriteLine();
        _stop.Dispose();
    }

    private async Task PrintAsync()
    {
        var clock = Stopwatch.StartNew();
        long last = 0;
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (await timer.WaitForNextTickAsync(_stop.Token))
        {
            var now = Interlocked.Read(ref _count);
            var left = Math.Max(0, (_duration - clock.Elapsed).TotalSeconds);
            Console.Write($"\r    {_label}: {now - last,9:N0} {_unit}/s, {left,4:F0} s left   ");
            last = now;
        }
    }
}
