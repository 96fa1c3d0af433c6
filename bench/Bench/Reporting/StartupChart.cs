using System.Text;

namespace Bench.Reporting;

/// <summary>The gateway's requests per second in each second after a cold start, with 90% of its final rate marked.</summary>
internal static class StartupChart
{
    /// <summary>Draws the panel at <paramref name="top"/>; returns its height (0 when the run has no start-up scenario).</summary>
    public static int Write(StringBuilder svg, BenchReport report, int top)
    {
        var startup = report.Targets.Select(t => t.Startup).FirstOrDefault(s => s is { RequestsPerSecond.Length: > 1 });
        if (startup is null)
        {
            return 0;
        }

        const int height = 260, left = 70, right = 40, header = 40, bottom = 40;
        var rates = startup.RequestsPerSecond;
        var final = rates.TakeLast(Math.Min(5, rates.Length)).Average();
        var max = Math.Max(rates.Max(), final) * 1.1;
        var width = ReportChart.Width;
        double X(int second) => left + ((second - 1) * (width - left - right) / (double)Math.Max(rates.Length - 1, 1));
        double Y(double rate) => top + header + ((1 - (rate / max)) * (height - header - bottom));

        svg.Append(ReportChart.Inv($"<text x=\"10\" y=\"{top + 22}\" font-size=\"14\">Gateway start-up: requests/s in each second after a cold start (listening after {startup.ListeningAfterSeconds:0.0} s)</text>"));
        for (var tick = 0; tick <= 4; tick++)
        {
            var rate = max * tick / 4;
            svg.Append(ReportChart.Inv($"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{Y(rate):F1}\" y2=\"{Y(rate):F1}\" stroke=\"#eee\"/><text x=\"{left - 6}\" y=\"{Y(rate) + 4:F1}\" text-anchor=\"end\">{rate / 1000:0}k</text>"));
        }

        for (var second = 1; second <= rates.Length; second += Math.Max(1, rates.Length / 10))
        {
            svg.Append(ReportChart.Inv($"<text x=\"{X(second):F1}\" y=\"{top + height - bottom + 16}\" text-anchor=\"middle\">{second} s</text>"));
        }

        var target = final * 0.9;
        svg.Append(ReportChart.Inv($"<line x1=\"{left}\" x2=\"{width - right}\" y1=\"{Y(target):F1}\" y2=\"{Y(target):F1}\" stroke=\"#2ca02c\" stroke-dasharray=\"4 3\"/><text x=\"{width - right}\" y=\"{Y(target) - 4:F1}\" text-anchor=\"end\" fill=\"#2ca02c\">90% of the last 5 s</text>"));
        var points = string.Join(' ', rates.Select((rate, i) => ReportChart.Inv($"{X(i + 1):F1},{Y(rate):F1}")));
        svg.Append(ReportChart.Inv($"<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"{points}\"/>"));
        if (startup.SecondsToFullSpeed > 0)
        {
            var x = X(startup.SecondsToFullSpeed);
            svg.Append(ReportChart.Inv($"<line x1=\"{x:F1}\" x2=\"{x:F1}\" y1=\"{top + header}\" y2=\"{top + height - bottom}\" stroke=\"#555\" stroke-dasharray=\"2 2\"/><text x=\"{x + 4:F1}\" y=\"{top + header + 12}\">second {startup.SecondsToFullSpeed}</text>"));
        }

        return height;
    }
}
