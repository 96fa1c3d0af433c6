using System.Text;

namespace Bench.Reporting;

/// <summary>
/// One bar per row of the report: the gateway's figure divided by the tuned OpenResty's, on a log scale around the
/// 1.0 line, green where the gateway is better (more throughput; less CPU, latency or memory), red where it trails.
/// </summary>
internal static class RatioChart
{
    public const string Baseline = "openresty-tuned";

    // The report's ratio keys in reading order, with what they measure; true where lower is better.
    private static readonly (string Key, string Label, bool LowerIsBetter)[] Rows =
    [
        ("http_rps", "HTTP requests/s", false),
        ("http_cpu_per_request", "HTTP CPU per request", true),
        ("p99_at_rate", "HTTP p99 at fixed rate", true),
        ("cached_p99", "cached request p99 (one connection)", true),
        ("cold_first_p99", "first request of a workspace, p99", true),
        ("large_1m_mibps", "1 MiB responses MiB/s", false),
        ("large_1m_cpu_per_mib", "1 MiB responses CPU per MiB", true),
        ("large_16m_mibps", "16 MiB responses MiB/s", false),
        ("large_16m_cpu_per_mib", "16 MiB responses CPU per MiB", true),
        ("large_64m_upload_mibps", "64 MiB upload MiB/s", false),
        ("large_64m_upload_cpu_per_mib", "64 MiB upload CPU per MiB", true),
        ("ws_msgs", "WebSocket echo msgs/s", false),
        ("ws_cpu_per_message", "WebSocket echo CPU per message", true),
        ("ws_64k_msgs", "64 KiB WebSocket msgs/s", false),
        ("ws_many_msgs", "1,000 WebSockets msgs/s", false),
        ("ws_many_p99", "1,000 WebSockets RTT p99", true),
        ("idle_websocket_memory", "idle WebSocket memory", true),
        ("tls_handshakes", "TLS handshakes/s", false),
        ("tls_resumed_handshakes", "TLS resumed handshakes/s", false),
        ("https_h1_rps", "HTTPS HTTP/1.1 requests/s", false),
        ("https_h2_rps", "HTTPS HTTP/2 requests/s", false),
        ("wss_msgs", "WebSocket over TLS msgs/s", false),
    ];

    /// <summary>Draws the panel at <paramref name="top"/>; returns its height (0 when the run has no such ratios).</summary>
    public static int Write(StringBuilder svg, BenchReport report, int top)
    {
        var rows = Rows
            .Select(row => (row.Label, row.LowerIsBetter, Ratio: report.Ratios.TryGetValue($"{row.Key}_gateway_vs_{Baseline}", out var ratio) ? ratio : 0))
            .Where(row => row.Ratio > 0)
            .ToList();
        if (rows.Count == 0)
        {
            return 0;
        }

        const int labelWidth = 250, rowHeight = 20, header = 50, footer = 30;
        var plotLeft = labelWidth + 10;
        var plotRight = ReportChart.Width - 60;

        // log2 from 1/4 to 4: a ratio of 2 is as far from the line as one of 0.5.
        double X(double ratio) => plotLeft + ((Math.Log2(Math.Clamp(ratio, 0.25, 4)) + 2) / 4 * (plotRight - plotLeft));
        var one = X(1);
        var height = header + (rows.Count * rowHeight) + footer;

        svg.Append(ReportChart.Inv($"<text x=\"10\" y=\"{top + 22}\" font-size=\"14\">The gateway against {Baseline}, every row (ratio, log scale; green: the gateway is better), {report.Date:yyyy-MM-dd HH:mm}</text>"));
        foreach (var tick in new[] { 0.25, 0.5, 1, 2, 4 })
        {
            var x = X(tick);
            svg.Append(ReportChart.Inv($"<line x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{top + header - 8}\" y2=\"{top + height - footer}\" stroke=\"{(tick == 1 ? "#000" : "#ddd")}\" stroke-width=\"{(tick == 1 ? 1.5 : 1)}\"/>"));
            svg.Append(ReportChart.Inv($"<text x=\"{x:F1}\" y=\"{top + header - 12}\" text-anchor=\"middle\">{tick}x</text>"));
        }

        for (var i = 0; i < rows.Count; i++)
        {
            var (label, lowerIsBetter, ratio) = rows[i];
            var y = top + header + (i * rowHeight);
            var x = X(ratio);
            var better = lowerIsBetter ? ratio <= 1 : ratio >= 1;
            svg.Append(ReportChart.Inv($"<text x=\"{labelWidth}\" y=\"{y + 14}\" text-anchor=\"end\">{label}{(lowerIsBetter ? " ↓" : "")}</text>"));
            svg.Append(ReportChart.Inv($"<rect x=\"{Math.Min(x, one):F1}\" y=\"{y + 4}\" width=\"{Math.Max(Math.Abs(x - one), 1):F1}\" height=\"{rowHeight - 8}\" fill=\"{(better ? "#2ca02c" : "#d62728")}\"/>"));
            svg.Append(ReportChart.Inv($"<text x=\"{(x >= one ? x + 4 : x - 4):F1}\" y=\"{y + 14}\" text-anchor=\"{(x >= one ? "start" : "end")}\" font-size=\"11\">{ratio:0.00}</text>"));
        }

        svg.Append(ReportChart.Inv($"<text x=\"10\" y=\"{top + height - 10}\" font-size=\"11\" fill=\"#555\">↓ lower is better (CPU, latency, memory); otherwise higher is better. Bars end at 0.25x and 4x.</text>"));
        return height;
    }
}
