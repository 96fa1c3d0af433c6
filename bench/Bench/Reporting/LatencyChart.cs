using System.Globalization;
using System.Text;

namespace Bench.Reporting;

/// <summary>Fixed-rate HTTP latency by percentile, one line per target, log scale.</summary>
internal static class LatencyChart
{
    private static readonly string[] Colors = ["#555555", "#1f77b4", "#d62728", "#ff7f0e", "#2ca02c"];

    /// <summary>Draws the panel at <paramref name="top"/>; returns its height (0 when the run has no fixed-rate figures).</summary>
    public static int Write(StringBuilder svg, BenchReport report, int top)
    {
        const int height = 400, left = 70, right = 190, bottom = 50;
        var width = ReportChart.Width;
        var labels = new[] { "p50", "p90", "p99", "p99.9", "max" };
        var series = report.Targets
            .Where(t => t.FixedRate is not null)
            .Select(t => (t.Name, Values: new[] { t.FixedRate!.Latency.P50, t.FixedRate.Latency.P90, t.FixedRate.Latency.P99, t.FixedRate.Latency.P999, t.FixedRate.Latency.Max }))
            .ToList();
        if (series.Count == 0)
        {
            return 0;
        }

        var all = series.SelectMany(s => s.Values).Where(v => v > 0).DefaultIfEmpty(1).ToList();
        var minExp = Math.Floor(Math.Log10(all.Min()));
        var maxExp = Math.Ceiling(Math.Log10(all.Max()));
        if (maxExp <= minExp)
        {
            maxExp = minExp + 1;
        }

        var plotTop = top + 40;
        double X(int i) => left + (i * (width - left - right) / (double)(labels.Length - 1));
        double Y(double ms) => plotTop + ((maxExp - Math.Log10(Math.Max(ms, Math.Pow(10, minExp)))) / (maxExp - minExp) * (height - 40 - bottom));

        svg.Append(Inv($"<text x=\"{left}\" y=\"{top + 22}\" font-size=\"14\">HTTP latency at {report.Settings.FixedRate:N0} req/s (ms, log scale), {report.Date:yyyy-MM-dd}</text>"));
        for (var e = minExp; e <= maxExp; e++)
        {
            var y = Y(Math.Pow(10, e));
            svg.Append(Inv($"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{y:F1}\" y2=\"{y:F1}\" stroke=\"#ddd\"/><text x=\"{left - 8}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{Math.Pow(10, e).ToString("G4", CultureInfo.InvariantCulture)}</text>"));
        }

        for (var i = 0; i < labels.Length; i++)
        {
            svg.Append(Inv($"<text x=\"{X(i):F1}\" y=\"{top + height - bottom + 20}\" text-anchor=\"middle\">{labels[i]}</text>"));
        }

        for (var s = 0; s < series.Count; s++)
        {
            var color = Colors[s % Colors.Length];
            var points = string.Join(' ', series[s].Values.Select((v, i) => Inv($"{X(i):F1},{Y(v):F1}")));
            svg.Append(Inv($"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{points}\"/>"));
            for (var i = 0; i < labels.Length; i++)
            {
                svg.Append(Inv($"<circle cx=\"{X(i):F1}\" cy=\"{Y(series[s].Values[i]):F1}\" r=\"3\" fill=\"{color}\"/>"));
            }

            var ly = plotTop + 10 + (s * 20);
            svg.Append(Inv($"<rect x=\"{width - right + 15}\" y=\"{ly - 9}\" width=\"12\" height=\"12\" fill=\"{color}\"/><text x=\"{width - right + 33}\" y=\"{ly + 1}\">{series[s].Name}</text>"));
        }

        return height;
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
