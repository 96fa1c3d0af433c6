using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Bench;
using Bench.Load;
using Bench.Reporting;
using Bench.Servers;

if (args is ["echo-server", "--port", var echoPort])
{
    await EchoServer.RunAsync(int.Parse(echoPort, CultureInfo.InvariantCulture));
    return 0;
}

// A saved run's report and picture drawn again (after the report's code changed), from its JSON.
if (args is ["--render", var saved])
{
    var loaded = JsonSerializer.Deserialize<BenchReport>(await File.ReadAllTextAsync(saved)) ?? throw new InvalidDataException(saved);
    loaded = loaded with { Ratios = MarkdownReport.Ratios(loaded.Targets) };
    var savedStem = Path.ChangeExtension(saved, null);
    await File.WriteAllTextAsync(saved, JsonSerializer.Serialize(loaded, new JsonSerializerOptions { WriteIndented = true }));
    await File.WriteAllTextAsync(savedStem + ".md", MarkdownReport.Render(loaded));
    await File.WriteAllTextAsync(savedStem + ".svg", ReportChart.Render(loaded));
    Console.WriteLine($"== written {savedStem}.json, .md, .svg");
    return 0;
}

if (args.Length > 0 && args[0] is "--faults" or "--soak")
{
    return await Bench.Faults.ReliabilityRun.MainAsync(args);
}

var options = BenchOptions.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: bench [--quick] [--out DIR] [--rate REQ_PER_S] [--targets a,b] [--scenarios startup,http,host,large,upload,ws,wsbig,ws1000,idle,churn,cold,tls] [--seconds N] [--no-build] | bench --render RUN.json | " + Bench.Faults.ReliabilityRun.Usage);
    return 2;
}

var repoRoot = RepositoryRoot.Find();
var work = Path.Combine(repoRoot, "bench", ".out");
var gatewayDirectory = Path.Combine(work, "gateway");
if (!options.NoBuild)
{
    Console.WriteLine("== publishing the gateway (Release)");
    Tools.Publish(repoRoot, "src/Gateway", gatewayDirectory);
}

var runDirectory = Path.Combine(work, "run-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));
Directory.CreateDirectory(runDirectory);
Console.WriteLine($"== starting servers on core {BenchStack.ServerCore} (logs in {runDirectory})");
using var stack = await BenchStack.StartAsync(repoRoot, gatewayDirectory, runDirectory);
using var redisConnection = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{stack.RedisPort}");
var redis = redisConnection.GetDatabase();

var results = new List<TargetResult>();
foreach (var target in stack.Targets.Where(t => options.Targets is null || options.Targets.Contains(t.Name)))
{
    Console.WriteLine($"== {target.Name}: {target.Description}");
    await HttpLoad.ClosedLoopAsync(target, target.HttpPath, options.HttpConnections, options.Warmup, "warm-up HTTP");
    await WebSocketLoad.EchoAsync(target, null, options.WebSocketConnections, options.Warmup / 2, "warm-up WebSocket");
    StartupRun? startup = null;
    if (target.Name == "gateway" && options.Runs("startup"))
    {
        // After the warm-up: the generator runs on one core too, and its own code must be optimised
        // before it can tell how fast a fresh gateway is.
        startup = await StartupScenario.RunAsync(stack, gatewayDirectory, options.HttpConnections, options.Quick ? 5 : 30);
    }

    HttpRun? http = null, fixedRate = null;
    WrkRun? wrk = null;
    EchoRun? echo = null;
    IdleRun? idle = null;
    ChurnRun? churn = null;
    ColdRun? cold = null;
    if (options.Runs("http"))
    {
        http = await HttpLoad.ClosedLoopAsync(target, target.HttpPath, options.HttpConnections, options.Run, "HTTP max");
        wrk = await Wrk.RunAsync(target, target.Process ?? stack.Backend, options.HttpConnections, options.Run, options.GeneratorCore);
        fixedRate = await HttpLoad.OpenLoopAsync(target, target.HttpPath, options.HttpConnections, options.Rate, options.Run, $"HTTP at {options.Rate:N0}/s");
    }

    HostRoutingRun? hostRouting = null;
    if (target.Name == "gateway" && options.Runs("host"))
    {
        hostRouting = await HostRouting.RunAsync(target, options.HttpConnections, options.Run, options.GeneratorCore);
    }

    List<LargeResponseRun>? large = null;
    if (options.Runs("large"))
    {
        large = await LargeResponses.RunAsync(stack, target, connections: 8, options.Run, options.GeneratorCore);
    }

    LargeResponseRun? upload = null;
    if (options.Runs("upload"))
    {
        upload = await LargeResponses.UploadAsync(stack, target, connections: 2, options.Run, options.GeneratorCore);
    }

    if (options.Runs("ws"))
    {
        echo = await WebSocketLoad.EchoAsync(target, target.Process ?? stack.Echo, options.WebSocketConnections, options.Run, "WebSocket echo");
    }

    EchoRun? largeFrames = null, manySockets = null;
    if (options.Runs("wsbig"))
    {
        largeFrames = await WebSocketLoad.EchoAsync(target, target.Process ?? stack.Echo, 8, options.Run, "WebSocket 64 KiB messages", WebSocketLoad.LargeFrameBytes);
    }

    if (options.Runs("ws1000"))
    {
        manySockets = await WebSocketLoad.EchoAsync(target, target.Process ?? stack.Echo, options.Quick ? 200 : 1_000, options.Run, "WebSocket, many connections", 32);
    }

    if (target.IsProxy && options.Runs("idle"))
    {
        idle = await WebSocketLoad.IdleAsync(target, options.IdleWebSockets, TimeSpan.FromSeconds(2), "idle WebSockets");

        // Thousands of tunnels just closed; let the proxy settle so the next scenario measures itself.
        await Task.Delay(TimeSpan.FromSeconds(options.Quick ? 1 : 5));
    }

    if (target.IsProxy && options.Runs("churn"))
    {
        churn = await RouteScenarios.ChurnAsync(stack, target, redis, options.HttpConnections, options.Rate / 2, options.Run, "route churn");
    }

    if (target.IsProxy && options.Runs("cold"))
    {
        cold = await RouteScenarios.ColdPathAsync(stack, target, redis, options.ColdSids);
    }

    TlsRun? tls = null;
    if (target.TlsPort is { } tlsPort && options.Runs("tls"))
    {
        // The gateway's editors get WebSockets over HTTP/2 (RFC 8441); nginx 1.22 can only do HTTP/1.1 ones.
        var http2WebSockets = target.Name.StartsWith("gateway", StringComparison.Ordinal);
        using var invoker = new HttpMessageInvoker(stack.Certificate.Handler());
        tls = new TlsRun(
            await TlsLoad.HandshakesAsync(target, resume: false, options.Run, options.GeneratorCore),
            await TlsLoad.HandshakesAsync(target, resume: true, options.Run, options.GeneratorCore),
            await TlsLoad.KeepAliveAsync(target, options.HttpConnections, streams: null, options.Run, options.GeneratorCore),
            await TlsLoad.KeepAliveAsync(target, connections: 16, streams: 10, options.Run, options.GeneratorCore),
            await WebSocketLoad.EchoAsync(target, target.Process, options.WebSocketConnections, options.Run, "WebSocket echo over TLS", tls: new TlsTransport(tlsPort, http2WebSockets, invoker)),
            http2WebSockets ? "HTTP/2" : "HTTP/1.1");
    }

    var result = new TargetResult(target.Name, target.Description, target.Invalidation, http, wrk, fixedRate, echo, idle, churn, cold) { Startup = startup, LargeResponses = large, Upload = upload, HostRouting = hostRouting, LargeFrames = largeFrames, ManyWebSockets = manySockets, Tls = tls };
    results.Add(result);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"   {http?.RequestsPerSecond:N0} req/s (wrk {wrk?.RequestsPerSecond:N0}), p99 at rate {fixedRate?.Latency.P99:F2} ms, WebSocket {echo?.MessagesPerSecond:N0} msgs/s"));
}

var report = new BenchReport(
    DateTimeOffset.UtcNow,
    Tools.Machine(),
    Tools.Versions(repoRoot),
    options.Describe(),
    results,
    MarkdownReport.Ratios(results));

var outDirectory = options.OutDirectory ?? Path.Combine(repoRoot, "bench", options.Quick ? ".out" : "results");
Directory.CreateDirectory(outDirectory);
var stem = Path.Combine(outDirectory, $"{report.Date:yyyy-MM-dd-HHmm}-{options.Mode}");
var markdown = MarkdownReport.Render(report);
await File.WriteAllTextAsync(stem + ".json", JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
await File.WriteAllTextAsync(stem + ".md", markdown);
await File.WriteAllTextAsync(stem + ".svg", ReportChart.Render(report));
Console.WriteLine();
Console.WriteLine(markdown);
Console.WriteLine($"== written {stem}.json, .md, .svg");

var failed = results.Where(r => (options.Runs("http") && (r.Http?.Latency.Count ?? 0) == 0) || (options.Runs("ws") && (r.WebSocketEcho?.RoundTrip.Count ?? 0) == 0)).Select(r => r.Name).ToList();
if (failed.Count > 0)
{
    Console.Error.WriteLine($"no successful requests through: {string.Join(", ", failed)}");
    return 1;
}

return 0;

namespace Bench
{
    internal sealed record BenchOptions(bool Quick, bool NoBuild, string? OutDirectory, double Rate, IReadOnlySet<string>? Targets)
    {
        public static readonly string[] AllScenarios = ["startup", "http", "host", "large", "upload", "ws", "wsbig", "ws1000", "idle", "churn", "cold", "tls"];

        /// <summary>A subset of the scenarios (for a quick A/B of one change); a partial run is its own mode.</summary>
        public IReadOnlySet<string>? Scenarios { get; init; }

        public double? SecondsPerRun { get; init; }

        public string Mode => (Quick ? "quick" : "full") + (Scenarios is null ? "" : "-" + string.Join('+', Scenarios));

        public bool Runs(string scenario) => Scenarios?.Contains(scenario) ?? true;

        public int HttpConnections { get; init; } = 64;

        public int WebSocketConnections { get; init; } = 50;

        // 9,000, not 10,000: the open-file hard limit here is 20,000 and a proxy needs two sockets per tunnel.
        public int IdleWebSockets => Quick ? 500 : 9_000;

        public int ColdSids => Quick ? 50 : 500;

        public TimeSpan Run => TimeSpan.FromSeconds(SecondsPerRun ?? (Quick ? 2 : 15));

        public TimeSpan Warmup => TimeSpan.FromSeconds(Quick ? 1 : 10);

        public int GeneratorCore { get; init; } = 1;

        public static BenchOptions? Parse(string[] args)
        {
            bool quick = false, noBuild = false;
            string? output = null;
            double? rate = null;
            HashSet<string>? targets = null, scenarios = null;
            double? seconds = null;
            for (var i = 0; i < args.Length; i++)
            {
                switch (args[i])
                {
                    case "--quick":
                        quick = true;
                        break;
                    case "--no-build":
                        noBuild = true;
                        break;
                    case "--out" when i + 1 < args.Length:
                        output = Path.GetFullPath(args[++i]);
                        break;
                    case "--rate" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var r) && r > 0:
                        rate = r;
                        i++;
                        break;
                    case "--targets" when i + 1 < args.Length:
                        targets = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                        break;
                    case "--scenarios" when i + 1 < args.Length:
                        scenarios = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                        if (!scenarios.IsSubsetOf(AllScenarios))
                        {
                            return null;
                        }

                        break;
                    case "--seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var n) && n > 0:
                        seconds = n;
                        i++;
                        break;
                    default:
                        return null;
                }
            }

            return new BenchOptions(quick, noBuild, output, rate ?? (quick ? 1000 : 5000), targets) { Scenarios = scenarios, SecondsPerRun = seconds };
        }

        public BenchSettings Describe() => new(
            Mode, HttpConnections, Rate, WebSocketConnections, IdleWebSockets, Run.TotalSeconds, Warmup.TotalSeconds, ColdSids,
            BenchStack.ServerCore.ToString(CultureInfo.InvariantCulture), GeneratorCore.ToString(CultureInfo.InvariantCulture));
    }

    internal static class RepositoryRoot
    {
        public static string Find()
        {
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            {
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                {
                    if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
                    {
                        return dir.FullName;
                    }
                }
            }

            throw new InvalidOperationException("run from inside the repository (Gateway.sln not found)");
        }
    }

    internal static class Tools
    {
        public static string Run(string file, string[] arguments)
        {
            var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start");
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {error}{output.Result}");
            }

            return output.Result + error;
        }

        /// <summary><c>dotnet publish</c> of a project of the repository in Release, as the Dockerfile builds it.</summary>
        public static void Publish(string repoRoot, string project, string directory) =>
            Run("dotnet", ["publish", Path.Combine(repoRoot, project), "-c", "Release", "-o", directory, "--nologo", "-v", "q"]);

        public static Dictionary<string, string> Machine()
        {
            var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
            return new()
            {
                ["cpu"] = cpu,
                // Not Environment.ProcessorCount: the harness is pinned to one core.
                ["cores"] = File.ReadLines("/proc/cpuinfo").Count(l => l.StartsWith("processor", StringComparison.Ordinal)).ToString(CultureInfo.InvariantCulture),
                ["memory"] = File.ReadLines("/proc/meminfo").First().Split(':', 2)[1].Trim(),
                ["kernel"] = Environment.OSVersion.VersionString,
                ["os"] = File.ReadLines("/etc/os-release").FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))?.Split('=', 2)[1].Trim('"') ?? "",
            };
        }

        public static Dictionary<string, string> Versions(string repoRoot) => new()
        {
            ["dotnet"] = ".NET " + Environment.Version,
            ["nginx"] = Safe(() => Run("nginx", ["-v"]).Trim().Replace("nginx version: ", "", StringComparison.Ordinal)),
            ["redis"] = Safe(() => "redis " + Run("redis-server", ["--version"]).Split(' ').First(p => p.StartsWith("v=", StringComparison.Ordinal))[2..]),
            ["wrk"] = Safe(() => Run("wrk", ["-v"]).Split('\n')[0].Trim()),
            ["openssl"] = Safe(() => Run("openssl", ["version"]).Trim()),
            ["h2load"] = Safe(() => Run("h2load", ["--version"]).Trim()),
            ["gateway-commit"] = Safe(() => Run("git", ["-C", repoRoot, "rev-parse", "--short", "HEAD"]).Trim()),
        };

        public static string Safe(Func<string> read)
        {
            try
            {
                return read();
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                return "unknown";
            }
        }
    }
}
