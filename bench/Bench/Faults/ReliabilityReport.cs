using Bench.Load;

namespace Bench.Faults;

/// <summary>One fault (or stretch of load) and what the clients saw during it.</summary>
/// <param name="Succeeded">HTTP requests answered 2xx at once.</param>
/// <param name="Retried">HTTP requests answered 2xx after a retry (a refused or reset GET, or a 502/503/504).</param>
/// <param name="RetryableAnswers">HTTP requests still answered 502/503/504 after every retry.</param>
/// <param name="Failed">HTTP requests reset, timed out or answered wrongly.</param>
/// <param name="Corrupted">Answers (uploads, large pages, echoes) that were not what was sent: data lost.</param>
/// <param name="Disconnects">Editors' WebSockets ended by the platform during the phase.</param>
/// <param name="ReconnectMaxMs">The slowest of those to be open again.</param>
/// <param name="RecoverySeconds">From the fault to everything back (the row's note says what "back" is).</param>
internal sealed record FaultRow(
    string Fault,
    double AtSeconds,
    double Seconds,
    long Messages,
    double EchoP99Ms,
    long Succeeded,
    long Retried,
    long RetryableAnswers,
    long Failed,
    long Corrupted,
    int Disconnects,
    double? ReconnectMaxMs,
    double? RecoverySeconds,
    string Notes);

/// <summary>A target of the scenario and whether this run met it.</summary>
internal sealed record ReliabilityCheck(string What, string Target, string Measured, bool Passed);

/// <summary>One second of the run, for the chart.</summary>
internal sealed record TimelinePoint(int Second, long Messages, double EchoP50Ms, double EchoP99Ms, long Requests, double HttpP99Ms, long ResidentBytes, int Threads, int Descriptors, int WorkspaceConnections);

/// <summary>A moment worth a line on the chart (a fault injected, a replica back).</summary>
internal sealed record Mark(double AtSeconds, string Label);

/// <summary>How a quantity moved over the soak: least-squares slope over the steady part, and its first and last values.</summary>
internal sealed record Slope(string Quantity, string Unit, double PerMinute, double First, double Last);

internal sealed record MinuteRow(int Minute, long Messages, double EchoP50Ms, double EchoP99Ms, double EchoP999Ms, long Requests, double HttpP50Ms, double HttpP99Ms, long NotSucceeded);

internal sealed record SoakSummary(double Minutes, IReadOnlyList<Slope> Slopes, IReadOnlyList<MinuteRow> PerMinute);

/// <summary>What <c>bench/run.sh --faults</c> or <c>--soak</c> writes (as JSON, Markdown and an SVG chart).</summary>
internal sealed record ReliabilityReport(
    string Kind,
    DateTimeOffset Date,
    Dictionary<string, string> Machine,
    Dictionary<string, string> Versions,
    TrafficShape Shape,
    int Replicas,
    IReadOnlyList<FaultRow> Rows,
    IReadOnlyList<ReliabilityCheck> Checks,
    IReadOnlyList<Mark> Marks,
    IReadOnlyList<Disconnect> Disconnects,
    IReadOnlyList<TimelinePoint> Timeline,
    Latency? Propagation,
    SoakSummary? Soak)
{
    public bool Passed => Checks.All(c => c.Passed);
}
