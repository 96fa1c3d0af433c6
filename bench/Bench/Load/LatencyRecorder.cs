using System.Diagnostics;
using HdrHistogram;

namespace Bench.Load;

/// <summary>Latency distribution and counts of one scenario run, in microseconds.</summary>
internal sealed class LatencyRecorder
{
    private const long MaxMicroseconds = 60_000_000;

    public LongHistogram Histogram { get; } = new(MaxMicroseconds, 3);

    public long Errors { get; set; }

    public static long MicrosecondsSince(long timestamp) =>
        Math.Min(MaxMicroseconds, (long)(Stopwatch.GetElapsedTime(timestamp).TotalMilliseconds * 1000));

    public void Record(long microseconds) => Histogram.RecordValue(Math.Clamp(microseconds, 1, MaxMicroseconds));

    public static LatencyRecorder Merge(IEnumerable<LatencyRecorder> parts)
    {
        var merged = new LatencyRecorder();
        foreach (var part in parts)
        {
            merged.Histogram.Add(part.Histogram);
            merged.Errors += part.Errors;
        }

        return merged;
    }

    public Latency Summarize() => new(
        Histogram.TotalCount,
        Errors,
        Histogram.GetValueAtPercentile(50) / 1000.0,
        Histogram.GetValueAtPercentile(90) / 1000.0,
        Histogram.GetValueAtPercentile(99) / 1000.0,
        Histogram.GetValueAtPercentile(99.9) / 1000.0,
        Histogram.GetMaxValue() / 1000.0);
}

/// <summary>Milliseconds.</summary>
internal sealed record Latency(long Count, long Errors, double P50, double P90, double P99, double P999, double Max);
