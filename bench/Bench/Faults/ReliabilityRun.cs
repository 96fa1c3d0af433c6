using System.Globalization;
using System.Text.Json;
using Bench.Reporting;

namespace Bench.Faults;

/// <summary>
/// <c>bench --faults | --soak [--minutes N] [--quick] [--no-build] [--out DIR]</c>: the replicas' scenarios, each
/// written as JSON, Markdown and an SVG chart. Exits 1 when a target is missed (the soak's: a leak).
/// </summary>
internal static class ReliabilityRun
{
    // Infinity is a measurement here (a route never seen, a socket never reopened), not an error.
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public const string Usage = "bench --faults [--quick] | --soak [--minutes N] [--quick]   [--no-build] [--out DIR]";

    public static async Task<int> MainAsync(string[] args)
    {
        string? kind = null, output = null;
        bool quick = false, noBuild = false;
        double? minutes = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--faults" or "--soak" when kind is null:
                    kind = args[i][2..];
                    break;
                case "--quick":
                    quick = true;
                    break;
                case "--no-build":
                    noBuild = true;
                    break;
                case "--out" when i + 1 < args.Length:
                    output = Path.GetFullPath(args[++i]);
                    break;
                case "--minutes" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var m) && m > 0:
                    minutes = m;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine("usage: " + Usage);
                    return 2;
            }
        }

        var repoRoot = RepositoryRoot.Find();
        var work = Path.Combine(repoRoot, "bench", ".out");
        var gatewayDirectory = Path.Combine(work, "gateway");
        if (!noBuild)
        {
            Console.WriteLine("== publishing the gateway (Release)");
            Tools.Publish(repoRoot, "src/Gateway", gatewayDirectory);
            if (kind == "faults")
            {
                Console.WriteLine("== publishing the operator, the web API and the stand-in editor (Release)");
                Servers.ControlPlane.Publish(repoRoot, work);
            }
        }

        var runDirectory = Path.Combine(work, $"{kind}-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
        Directory.CreateDirectory(runDirectory);
        Console.WriteLine($"== {kind}: servers on core 0, logs in {runDirectory}");
        var versions = Tools.Versions(repoRoot);
        versions["haproxy"] = Tools.Safe(() => Tools.Run("haproxy", ["-v"]).Split('\n')[0].Split(" - ")[0].Trim());
        var report = kind == "faults"
            ? await FaultScenario.RunAsync(repoRoot, gatewayDirectory, work, runDirectory, quick, Tools.Machine(), versions)
            : await SoakScenario.RunAsync(repoRoot, gatewayDirectory, runDirectory, TimeSpan.FromMinutes(minutes ?? (quick ? 2 : 30)), Tools.Machine(), versions);

        var outDirectory = output ?? Path.Combine(repoRoot, "bench", quick ? ".out" : "results");
        Directory.CreateDirectory(outDirectory);
        var stem = Path.Combine(outDirectory, $"{report.Date:yyyy-MM-dd-HHmm}-{kind}{(quick ? "-quick" : "")}");
        var markdown = ReliabilityMarkdown.Render(report);
        await File.WriteAllTextAsync(stem + ".json", JsonSerializer.Serialize(report, Json));
        await File.WriteAllTextAsync(stem + ".md", markdown);
        await File.WriteAllTextAsync(stem + ".svg", TimelineChart.Render(report));
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"== written {stem}.json, .md, .svg");
        return report.Passed ? 0 : 1;
    }
}
