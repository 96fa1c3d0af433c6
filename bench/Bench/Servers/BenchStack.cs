using System.Text.Json.Nodes;

namespace Bench.Servers;

/// <summary>One thing load is sent to: its HTTP and WebSocket addresses and the process whose memory counts.</summary>
internal sealed record FreshGateway(Target Target, PinnedProcess Process) : IDisposable
{
    public void Dispose() => Process.Dispose();
}

/// <summary>One of several gateways behind the load balancer; its process changes when it is restarted.</summary>
internal sealed class Replica(string name, int port, PinnedProcess process)
{
    public string Name { get; } = name;

    public int Port { get; } = port;

    public PinnedProcess Process { get; set; } = process;
}

internal sealed record Target(string Name, string Description, int Port, string HttpPath, int WebSocketPort, string WebSocketPath, PinnedProcess? Process, string Invalidation)
{
    public bool IsProxy => Process is not null;

    /// <summary>The same server's HTTPS listener (HTTP/2 and HTTP/1.1, the bench certificate), where it has one.</summary>
    public int? TlsPort { get; init; }
}

/// <summary>
/// Everything under test, started on the servers' core: Redis, the fixed backends (nginx return 200 and a
/// WebSocket echo), our gateway (Release) and the two OpenResty-style baselines.
/// </summary>
internal sealed class BenchStack : IDisposable
{
    public const string HttpSid = "bench";
    public const string WebSocketSid = "wsbench";

    /// <summary>The gateway's <c>Routes:WorkspaceDomain</c>: <c>bench.ws.bench</c> is the HTTP workspace by host name.</summary>
    public const string WorkspaceDomain = "ws.bench";
    public const int ServerCore = 0;

    private readonly List<PinnedProcess> _processes = [];
    private string _gatewayConfig = "";

    private BenchStack(string runDirectory) => RunDirectory = runDirectory;

    public string RunDirectory { get; }

    public int RedisPort { get; private set; }

    public int BackendOnePort { get; private set; }

    /// <summary>The nginx serving both fixed HTTP backends; the "direct" target's server.</summary>
    public PinnedProcess? Backend { get; private set; }

    public int BackendTwoPort { get; private set; }

    public int EchoPort { get; private set; }

    /// <summary>The WebSocket echo backend (Kestrel), whose CPU is the direct target's.</summary>
    public PinnedProcess Echo { get; private set; } = null!;

    public IReadOnlyList<Target> Targets { get; private set; } = [];

    /// <summary>What the TLS listeners serve.</summary>
    public BenchCertificate Certificate { get; private set; } = null!;

    public static async Task<BenchStack> StartAsync(string repoRoot, string gatewayDirectory, string runDirectory)
    {
        var stack = new BenchStack(runDirectory);
        try
        {
            await stack.StartAllAsync(repoRoot, gatewayDirectory);
            return stack;
        }
        catch
        {
            stack.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Several gateways sharing one Redis (persisted, so that a restart keeps the routes, as a deployed one does)
    /// behind HAProxy, with the fixed backends: the stack of the fault and soak scenarios.
    /// </summary>
    public static async Task<BenchStack> StartReplicasAsync(string repoRoot, string gatewayDirectory, string runDirectory, int replicas, IReadOnlyDictionary<string, string> gatewaySettings)
    {
        var stack = new BenchStack(runDirectory);
        try
        {
            await stack.StartReplicaSetAsync(repoRoot, gatewayDirectory, replicas, gatewaySettings);
            return stack;
        }
        catch
        {
            stack.Dispose();
            throw;
        }
    }

    public IReadOnlyList<Replica> Replicas { get; private set; } = [];

    /// <summary>HAProxy's port, where the clients go.</summary>
    public int BalancerPort { get; private set; }

    /// <summary>HAProxy's statistics page (CSV at <c>/stats;csv</c>): which replicas it sends to.</summary>
    public int BalancerStatsPort { get; private set; }

    public PinnedProcess RedisServer { get; private set; } = null!;

    public void Dispose()
    {
        for (var i = _processes.Count - 1; i >= 0; i--)
        {
            _processes[i].Dispose();
        }
    }

    private async Task StartAllAsync(string repoRoot, string gatewayDirectory)
    {
        var baselines = Path.Combine(repoRoot, "bench", "baselines", "openresty");
        RedisPort = Ports.Free();
        await StartRedisAsync(persisted: false);

        await StartBackendsAsync(baselines);

        Certificate = BenchCertificate.Write(RunDirectory);
        _gatewayConfig = WriteGatewayConfig(repoRoot);
        var gatewayPort = Ports.Free();
        var gatewayTlsPort = Ports.Free();
        var gateway = await StartGatewayAsync("gateway", gatewayPort, gatewayDirectory, gatewayTlsPort);

        var faithfulPort = Ports.Free();
        var faithful = await StartNginxAsync("openresty-faithful", baselines, faithfulPort, new() { ["PORT"] = $"{faithfulPort}" }, "faithful.conf");
        var tunedPort = Ports.Free();
        var tunedTlsPort = Ports.Free();
        var tuned = await StartNginxAsync("openresty-tuned", baselines, tunedPort, new()
        {
            ["PORT"] = $"{tunedPort}",
            ["TLS_PORT"] = $"{tunedTlsPort}",
            ["TLS_CERTIFICATE"] = Certificate.CertificateFile,
            ["TLS_KEY"] = Certificate.KeyFile,
        }, "tuned.conf");

        Targets =
        [
            new("direct", "the backends themselves, no proxy (the physical limit)", BackendOnePort, "/", EchoPort, "/", null, "-"),
            new("gateway", "this project (Release, cache warm)", gatewayPort, $"/ws/{HttpSid}/", gatewayPort, $"/ws/{WebSocketSid}/", gateway, "pub/sub") { TlsPort = gatewayTlsPort },
            new("openresty-tuned", "nginx+Lua: per-worker LRU (1 s TTL), Redis pool, upstream keep-alive", tunedPort, $"/ws/{HttpSid}/", tunedPort, $"/ws/{WebSocketSid}/", tuned, "TTL 1 s") { TlsPort = tunedTlsPort },
            new("openresty-faithful", "nginx+Lua as the old platform: HGET per request", faithfulPort, $"/ws/{HttpSid}/", faithfulPort, $"/ws/{WebSocketSid}/", faithful, "every request"),
        ];
    }

    private async Task StartReplicaSetAsync(string repoRoot, string gatewayDirectory, int count, IReadOnlyDictionary<string, string> gatewaySettings)
    {
        var baselines = Path.Combine(repoRoot, "bench", "baselines", "openresty");
        RedisPort = Ports.Free();
        await StartRedisAsync(persisted: true);

        await StartBackendsAsync(baselines);

        _gatewayConfig = WriteGatewayConfig(repoRoot);
        _gatewayDirectory = gatewayDirectory;
        _gatewaySettings = gatewaySettings;
        var replicas = new List<Replica>();
        for (var i = 1; i <= count; i++)
        {
            var port = Ports.Free();
            replicas.Add(new Replica($"g{i}", port, await StartGatewayAsync($"g{i}", port, gatewayDirectory, extra: gatewaySettings)));
        }

        Replicas = replicas;
        BalancerPort = Ports.Free();
        BalancerStatsPort = Ports.Free();
        var config = Path.Combine(RunDirectory, "haproxy.cfg");
        var text = File.ReadAllText(Path.Combine(repoRoot, "bench", "balancer", "haproxy.cfg"))
            .Replace("{{PORT}}", $"{BalancerPort}", StringComparison.Ordinal)
            .Replace("{{STATS_PORT}}", $"{BalancerStatsPort}", StringComparison.Ordinal)
            .Replace("{{SERVERS}}", string.Join('\n', replicas.Select(r => $"  server {r.Name} 127.0.0.1:{r.Port} check")), StringComparison.Ordinal);
        File.WriteAllText(config, text);
        await StartAsync("haproxy", BalancerPort, "haproxy", ["-db", "-f", config]);
    }

    /// <summary>The fixed workspaces every stack routes to: nginx's two HTTP backends and the WebSocket echo, with their routes.</summary>
    private async Task StartBackendsAsync(string baselines)
    {
        WriteLargeBodies();
        BackendOnePort = Ports.Free();
        BackendTwoPort = Ports.Free();
        Backend = await StartNginxAsync("backend", baselines, BackendOnePort, new() { ["BACKEND_ONE_PORT"] = $"{BackendOnePort}", ["BACKEND_TWO_PORT"] = $"{BackendTwoPort}" });
        EchoPort = Ports.Free();
        Echo = await StartAsync("echo", EchoPort, "dotnet", [typeof(BenchStack).Assembly.Location, "echo-server", "--port", $"{EchoPort}"]);
        await SeedRoutesAsync();
    }

    private string _gatewayDirectory = "";
    private IReadOnlyDictionary<string, string>? _gatewaySettings;

    /// <summary>A replica started again on its port after it was killed or stopped.</summary>
    public async Task RestartAsync(Replica replica)
    {
        _processes.Remove(replica.Process);
        replica.Process.Dispose();
        replica.Process = await StartGatewayAsync(replica.Name, replica.Port, _gatewayDirectory, extra: _gatewaySettings);
    }

    /// <summary>Redis stopped as an operator stops it (SIGTERM: the append-only file is synced) and started again on its port.</summary>
    public async Task RestartRedisAsync(TimeSpan down, Func<Task>? whileDown = null)
    {
        RedisServer.Signal("TERM");
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await RedisServer.WaitForExitAsync(wait.Token);
        }

        _processes.Remove(RedisServer);
        RedisServer.Dispose();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (whileDown is not null)
        {
            await whileDown();
        }

        if (down > clock.Elapsed)
        {
            await Task.Delay(down - clock.Elapsed);
        }

        await StartRedisAsync(persisted: true);
    }

    /// <summary>The echo workspace killed (SIGKILL, as a node that dies) and started again elsewhere: a new port, its route rewritten and announced as the operator does.</summary>
    public async Task<TimeSpan> MoveEchoAsync(TimeSpan away)
    {
        Echo.Signal("KILL");
        using (var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            await Echo.WaitForExitAsync(wait.Token);
        }

        var killed = System.Diagnostics.Stopwatch.StartNew();
        _processes.Remove(Echo);
        Echo.Dispose();
        await Task.Delay(away);
        EchoPort = Ports.Free();
        Echo = await StartAsync("echo-moved", EchoPort, "dotnet", [typeof(BenchStack).Assembly.Location, "echo-server", "--port", $"{EchoPort}"]);
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{RedisPort}");
        await redis.GetDatabase().HashSetAsync("hosts", WebSocketSid, $"127.0.0.1:{EchoPort}");
        await redis.GetDatabase().PublishAsync(StackExchange.Redis.RedisChannel.Literal("routes:changed"), WebSocketSid);
        return killed.Elapsed;
    }

    private async Task StartRedisAsync(bool persisted)
    {
        string[] persistence = persisted
            ? ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", RunDirectory]
            : ["--save", "", "--appendonly", "no"];
        RedisServer = await StartAsync("redis", RedisPort, "redis-server", ["--port", $"{RedisPort}", "--bind", "127.0.0.1", .. persistence]);
    }

    /// <summary>Another gateway, started now; stopped when the returned handle is disposed.</summary>
    public async Task<FreshGateway> StartFreshGatewayAsync(string gatewayDirectory)
    {
        var port = Ports.Free();
        var process = await StartGatewayAsync("gateway-fresh", port, gatewayDirectory);
        _processes.Remove(process);
        return new FreshGateway(new Target("gateway-fresh", "a gateway just started", port, $"/ws/{HttpSid}/", port, $"/ws/{WebSocketSid}/", process, "pub/sub"), process);
    }

    // Only what any operator sets: where its settings are, the signing key, and (for the main one) an HTTPS
    // listener beside the plain one, serving both. No runtime variables (PinnedProcess removes inherited
    // DOTNET_*): what the runtime needs is in the project.
    private Task<PinnedProcess> StartGatewayAsync(string name, int port, string gatewayDirectory, int? tlsPort = null, IReadOnlyDictionary<string, string>? extra = null)
    {
        var environment = new Dictionary<string, string>
        {
            ["GATEWAY_CONFIG"] = _gatewayConfig,
            ["Gateway__Auth__SigningKey"] = Load.BenchCredentials.SigningKeyBase64,
            ["Gateway__Routes__WorkspaceDomain"] = WorkspaceDomain,
            ["Gateway__Endpoints__Http"] = $"127.0.0.1:{port}",
        };
        if (tlsPort is { } https)
        {
            environment["Gateway__Endpoints__Https"] = $"127.0.0.1:{https}";
            environment["Gateway__Endpoints__RedirectHttpToHttps"] = "false";
            environment["Gateway__Tls__Certificates__0__CertificateFile"] = Certificate.CertificateFile;
            environment["Gateway__Tls__Certificates__0__KeyFile"] = Certificate.KeyFile;
        }

        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        return StartAsync(name, port, Path.Combine(gatewayDirectory, "Gateway"), [], environment);
    }

    /// <summary>Response sizes of the large-response scenario, served by the backend as /bytes/&lt;name&gt;.</summary>
    public static IReadOnlyList<(string Name, int Bytes)> LargeBodies { get; } = [("1m", 1 << 20), ("16m", 16 << 20)];

    private void WriteLargeBodies()
    {
        var directory = Directory.CreateDirectory(Path.Combine(RunDirectory, "bytes"));
        foreach (var (name, bytes) in LargeBodies)
        {
            File.WriteAllBytes(Path.Combine(directory.FullName, name), LargeBody(bytes));
        }
    }

    /// <summary>The content served as a large body of that size: a client can check what it got.</summary>
    public static byte[] LargeBody(int bytes)
    {
        var body = new byte[bytes];
        new Random(bytes).NextBytes(body);
        return body;
    }

    private async Task SeedRoutesAsync()
    {
        using var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{RedisPort}");
        var database = redis.GetDatabase();
        await database.HashSetAsync("hosts", HttpSid, $"127.0.0.1:{BackendOnePort}");
        await database.HashSetAsync("hosts", WebSocketSid, $"127.0.0.1:{EchoPort}");
    }

    private string WriteGatewayConfig(string repoRoot)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(repoRoot, "config", "gateway.json")))!;
        config["Gateway"]!["Redis"]!["Configuration"] = $"127.0.0.1:{RedisPort}";
        config["Logging"]!["LogLevel"]!["Default"] = "Warning";
        var path = Path.Combine(RunDirectory, "gateway.json");
        File.WriteAllText(path, config.ToJsonString());
        return path;
    }

    private async Task<PinnedProcess> StartNginxAsync(string name, string baselines, int port, Dictionary<string, string> values, string file = "backend.conf")
    {
        values["NAME"] = name;
        values["RUN_DIR"] = RunDirectory;
        values["BASELINE_DIR"] = baselines;
        values["REDIS_PORT"] = $"{RedisPort}";
        var text = File.ReadAllText(Path.Combine(baselines, file)).Replace("{{COMMON}}", File.ReadAllText(Path.Combine(baselines, "common.conf")), StringComparison.Ordinal);
        foreach (var (key, value) in values)
        {
            text = text.Replace("{{" + key + "}}", value, StringComparison.Ordinal);
        }

        var config = Path.Combine(RunDirectory, name + ".conf");
        File.WriteAllText(config, text);
        return await StartAsync(name, port, "nginx", ["-e", Path.Combine(RunDirectory, name + ".error.log"), "-p", RunDirectory, "-c", config]);
    }

    private async Task<PinnedProcess> StartAsync(string name, int port, string executable, string[] arguments, IDictionary<string, string>? environment = null)
    {
        var process = PinnedProcess.Start(name, ServerCore, RunDirectory, executable, arguments, environment);
        _processes.Add(process);
        await Ports.WaitUntilListeningAsync(port, process, TimeSpan.FromSeconds(30));
        return process;
    }
}
