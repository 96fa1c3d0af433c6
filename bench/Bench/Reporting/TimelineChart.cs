using System.Globalization;
using System.Text;
using Bench.Faults;
using static Bench.Reporting.ReportChart;

namespace Bench.Reporting;

/// <summary>
/// The fault or soak run over time, plain SVG: editors' echo latency and page latency per second (log scale) above,
/// the gateways' memory and descriptors below, a dashed line at each fault so a spike can be read against its cause.
/// </summary>
internal static class TimelineChart
{
    private const int Left = 70, Right = 30, PanelHeight = 260, Gap = 50;

    public static string Render(ReliabilityReport report)
    {
        var points = report.Timeline;
        var seconds = Math.Max(1, points.Count);
        var svg = new StringBuilder();
        var height = 40 + (2 * PanelHeight) + Gap + 60;
        svg.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.Append(Inv($"<text x=\"{Left}\" y=\"22\" font-size=\"14\">{report.Kind}: {report.Replicas} gateways behind HAProxy, {report.Shape.WebSockets} editors, {report.Date:yyyy-MM-dd HH:mm} UTC</text>"));
        double X(double second) => Left + (second / seconds * (Width - Left - Right));

        // Latency panel, log scale from 0.1 ms to the largest p99 seen.
        var top = 40;
        var largest = points.Select(p => Math.Max(p.EchoP99Ms, p.HttpP99Ms)).DefaultIfEmpty(1).Max();
        var maxExp = Math.Max(1, Math.Ceiling(Math.Log10(Math.Max(largest, 1))));
        const double minExp = -1;
        double LatencyY(double ms) => top + ((maxExp - Math.Log10(Math.Max(ms, 0.1))) / (maxExp - minExp) * PanelHeight);
        for (var e = minExp; e <= maxExp; e++)
        {
            var y = LatencyY(Math.Pow(10, e));
            svg.Append(Inv($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{Left - 8}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Math.Pow(10, e).ToString("0.###", CultureInfo.InvariantCulture)} ms</text>"));
        }

        Line(svg, points.Where(p => p.Messages > 0).Select(p => (X(p.Second), LatencyY(p.EchoP50Ms))), "#9ecae1");
        Line(svg, points.Where(p => p.Messages > 0).Select(p => (X(p.Second), LatencyY(p.EchoP99Ms))), "#1f77b4");
        Line(svg, points.Where(p => p.Requests > 0).Select(p => (X(p.Second), LatencyY(p.HttpP99Ms))), "#ff7f0e");
        Legend(svg, top + 14, [("echo p50", "#9ecae1"), ("echo p99", "#1f77b4"), ("page/upload p99", "#ff7f0e")]);

        // Memory and descriptors panel, each scaled to its own maximum.
        var lower = top + PanelHeight + Gap;
        var sampled = points.Where(p => p.ResidentBytes > 0).ToList();
        var maxMemory = sampled.Select(p => p.ResidentBytes / 1048576.0).DefaultIfEmpty(1).Max() * 1.1;
        var maxDescriptors = sampled.Select(p => (double)p.Descriptors).DefaultIfEmpty(1).Max() * 1.1;
        svg.Append(Inv($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{lower + PanelHeight}\" y2=\"{lower + PanelHeight}\" stroke=\"#999\"/>"));
        svg.Append(Inv($"<text x=\"{Left - 8}\" y=\"{lower + 4}\" text-anchor=\"end\">{maxMemory:F0} MiB</text><text x=\"{Left - 8}\" y=\"{lower + PanelHeight + 4}\" text-anchor=\"end\">0</text>"));
        Line(svg, sampled.Select(p => (X(p.Second), lower + PanelHeight - (p.ResidentBytes / 1048576.0 / maxMemory * PanelHeight))), "#2ca02c");
        Line(svg, sampled.Select(p => (X(p.Second), lower + PanelHeight - (p.Descriptors / maxDescriptors * PanelHeight))), "#9467bd");
        Line(svg, sampled.Select(p => (X(p.Second), lower + PanelHeight - (p.WorkspaceConnections / maxDescriptors * PanelHeight))), "#8c564b");
        Legend(svg, lower + 14, [("gateways' memory (RSS, summed)", "#2ca02c"), ($"descriptors (max {maxDescriptors / 1.1:F0})", "#9467bd"), ("connections to workspaces (same scale)", "#8c564b")]);

        for (var i = 0; i < report.Marks.Count; i++)
        {
            var x = X(report.Marks[i].AtSeconds);
            svg.Append(Inv($"<line x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{top}\" y2=\"{lower + PanelHeight}\" stroke=\"#d62728\" stroke-dasharray=\"4 3\" stroke-width=\"1\"/>"));
            svg.Append(Inv($"<text x=\"{x + 2:F1}\" y=\"{top + PanelHeight + 14 + (i % 3 * 12)}\" font-size=\"10\" fill=\"#d62728\">{i + 1}</text>"));
        }

        var axis = lower + PanelHeight + 20;
        var step = seconds > 600 ? 300 : seconds > 120 ? 60 : 10;
        for (var s = 0; s <= seconds; s += step)
        {
            svg.Append(Inv($"<text x=\"{X(s):F1}\" y=\"{axis}\" text-anchor=\"middle\">{s} s</text>"));
        }

        svg.Append(Inv($"<text x=\"{Left}\" y=\"{axis + 24}\" font-size=\"11\" fill=\"#d62728\">dashed: the faults, numbered as in the report's list</text>"));
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static void Line(StringBuilder svg, IEnumerable<(double X, double Y)> points, string color)
    {
        var text = string.Join(' ', points.Select(p => Inv($"{p.X:F1},{p.Y:F1}")));
        if (text.Length > 0)
        {
            svg.Append(Inv($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{text}\"/>"));
        }
    }

    private static void Legend(StringBuilder svg, int y, (string Label, string Color)[] series)
    {
        var x = Left + 10;
        foreach (var (label, color) in series)
        {
            svg.Append(Inv($"<rect x=\"{x}\" y=\"{y - 9}\" width=\"12\" height=\"3\" fill=\"{color}\"/><text x=\"{x + 16}\" y=\"{y - 4}\">{label}</text>"));
            x += 30 + (label.Length * 6);
        }
    }
}
