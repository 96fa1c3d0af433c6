using System.Globalization;
using System.Text;

namespace Bench.Reporting;

/// <summary>
/// The run's picture, plain SVG with no dependencies: every row as a ratio to the tuned OpenResty (where the gateway
/// leads and where it trails, at a glance), the gateway's start-up curve, and fixed-rate latency by percentile.
/// </summary>
internal static class ReportChart
{
    public const int Width = 760;

    public static string Render(BenchReport report)
    {
        var panels = new StringBuilder();
        var height = 0;
        height += RatioChart.Write(panels, report, height);
        height += StartupChart.Write(panels, report, height);
        height += LatencyChart.Write(panels, report, height);

        var svg = new StringBuilder();
        svg.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Math.Max(height, 40)}\" font-family=\"sans-serif\" font-size=\"12\">"));
        svg.Append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
        svg.Append(panels);
        svg.Append("</svg>");
        return svg.ToString();
    }

    internal static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
