using System.Globalization;
using System.Text;
using Bench.Faults;

namespace Bench.Reporting;

/// <summary>The fault or soak run as Markdown: the targets met or not, then what the clients saw per fault or minute.</summary>
internal static class ReliabilityMarkdown
{
    public static string Render(ReliabilityReport report)
    {
        var md = new StringBuilder();
        var shape = report.Shape;
        md.AppendLine(Inv($"# Reliability run ({report.Kind}), {report.Date:yyyy-MM-dd HH:mm} UTC"));
        md.AppendLine();
        md.AppendLine(Inv($"Machine: {report.Machine.GetValueOrDefault("cpu")}, {report.Machine.GetValueOrDefault("cores")} cores, {report.Machine.GetValueOrDefault("memory")}, {report.Machine.GetValueOrDefault("os")}; gateway {report.Versions.GetValueOrDefault("gateway-commit")}, {report.Versions.GetValueOrDefault("dotnet")}, {report.Versions.GetValueOrDefault("haproxy")}, {report.Versions.GetValueOrDefault("redis")}."));
        md.AppendLine();
        md.AppendLine(Inv($"Load held throughout: {report.Replicas} gateway processes (Release, all on core 0 with Redis, HAProxy and the backends) behind HAProxy (readiness probe `GET /readyz` every 500 ms, out after one failure); {shape.WebSockets} editors' WebSockets each sending a 64-byte message every ~{shape.MessageInterval.TotalMilliseconds:F0} ms and checking its echo; {shape.PageClients} page clients loading small pages, every 20th a 1 MiB one, every 40th a 256 KiB upload checked by hash, {shape.PagePause.TotalMilliseconds:F0} ms apart. A GET whose connection is refused or reset is sent again, as browsers do; a 502/503/504 is tried again after 200 ms (up to 6 attempts)."));
        md.AppendLine();
        md.AppendLine(report.Passed ? "**All targets met.**" : Inv($"**{report.Checks.Count(c => !c.Passed)} of {report.Checks.Count} targets missed.**"));
        md.AppendLine();
        md.AppendLine("| | What | Target | Measured |");
        md.AppendLine("|---|---|---|---|");
        foreach (var check in report.Checks)
        {
            md.AppendLine(Inv($"| {(check.Passed ? "✅" : "❌")} | {check.What} | {check.Target} | {check.Measured} |"));
        }

        if (report.Rows.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("## What the clients saw, fault by fault");
            md.AppendLine();
            md.AppendLine("| Fault | at (s) | lasted (s) | echoes | echo p99 (ms) | requests succeeded | retried, then succeeded | retryable answer | failed | data lost | sockets ended | slowest reconnect (ms) | recovery (s) | |");
            md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
            foreach (var row in report.Rows)
            {
                md.AppendLine(Inv($"| {row.Fault} | {row.AtSeconds:F1} | {row.Seconds:F1} | {row.Messages:N0} | {row.EchoP99Ms:F2} | {row.Succeeded:N0} | {row.Retried:N0} | {row.RetryableAnswers:N0} | {row.Failed:N0} | {row.Corrupted:N0} | {row.Disconnects:N0} | {Optional(row.ReconnectMaxMs, "F0")} | {Optional(row.RecoverySeconds, "F2")} | {row.Notes} |"));
            }

            md.AppendLine(Inv($"| **all** | | | {report.Rows.Sum(r => r.Messages):N0} | | {report.Rows.Sum(r => r.Succeeded):N0} | {report.Rows.Sum(r => r.Retried):N0} | {report.Rows.Sum(r => r.RetryableAnswers):N0} | {report.Rows.Sum(r => r.Failed):N0} | {report.Rows.Sum(r => r.Corrupted):N0} | {report.Rows.Sum(r => r.Disconnects):N0} | | | |"));
        }

        if (report.Soak is { } soak)
        {
            md.AppendLine();
            md.AppendLine(Inv($"## Soak: {soak.Minutes:F0} minutes"));
            md.AppendLine();
            md.AppendLine("Slopes are least-squares fits over the run after its first fifth (warm-up), summed over the replicas.");
            md.AppendLine();
            md.AppendLine("| Quantity | slope per minute | first | last |");
            md.AppendLine("|---|---:|---:|---:|");
            foreach (var slope in soak.Slopes)
            {
                md.AppendLine(Inv($"| {slope.Quantity} ({slope.Unit}) | {slope.PerMinute:+0.00;-0.00;0} | {slope.First:N1} | {slope.Last:N1} |"));
            }

            md.AppendLine();
            md.AppendLine("| Minute | echoes | echo p50 (ms) | p99 | p99.9 | requests | request p50 (ms) | p99 | not succeeded at once |");
            md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var minute in soak.PerMinute)
            {
                md.AppendLine(Inv($"| {minute.Minute} | {minute.Messages:N0} | {minute.EchoP50Ms:F2} | {minute.EchoP99Ms:F2} | {minute.EchoP999Ms:F2} | {minute.Requests:N0} | {minute.HttpP50Ms:F2} | {minute.HttpP99Ms:F2} | {minute.NotSucceeded:N0} |"));
            }
        }

        md.AppendLine();
        md.AppendLine("## Timeline (the dashed lines of the chart)");
        md.AppendLine();
        for (var i = 0; i < report.Marks.Count; i++)
        {
            md.AppendLine(Inv($"{i + 1}. {report.Marks[i].AtSeconds:F1} s: {report.Marks[i].Label}"));
        }

        return md.ToString();
    }

    private static string Optional(double? value, string format) => value is { } v ? (double.IsFinite(v) ? v.ToString(format, CultureInfo.InvariantCulture) : "never") : "";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
