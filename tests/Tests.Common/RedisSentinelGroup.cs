using System.Diagnostics;
using System.Globalization;
using System.Net;
using StackExchange.Redis;

namespace Tests.Common;

/// <summary>
/// Redis as a highly available deployment runs it: a primary, a replica and three Sentinels (real
/// <c>redis-server</c> processes, the Sentinels started with <c>--sentinel</c>) on free loopback ports, all
/// stopped by PID. Programs connect with <see cref="Configuration"/>, the StackExchange.Redis string for a
/// Sentinel-managed service; <see cref="KillPrimary"/> makes the Sentinels promote the replica.
/// </summary>
public sealed class RedisSentinelGroup : IAsyncLifetime
{
    public const string ServiceName = "workspaces";

    private readonly string _directory = Directory.CreateTempSubdirectory("redis-sentinel-test-").FullName;
    private readonly List<Process> _sentinels = [];
    private ConnectionMultiplexer? _sentinelClient;

    public RedisServer Primary { get; private set; } = null!;

    public RedisServer Replica { get; private set; } = null!;

    public IReadOnlyList<int> SentinelPorts { get; private set; } = [];

    /// <summary>What a program's Redis setting says to find the primary through the Sentinels.</summary>
    public string Configuration =>
        string.Join(",", SentinelPorts.Select(port => $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}")) + $",serviceName={ServiceName}";

    public async Task InitializeAsync()
    {
        Primary = new RedisServer();
        await Primary.InitializeAsync();
        Replica = new RedisServer("--replicaof", "127.0.0.1", Primary.Port.ToString(CultureInfo.InvariantCulture));
        await Replica.InitializeAsync();
        using (var replica = Replica.Connect())
        {
            await WaitUntilAsync(async () => ((string?)await replica.ExecuteAsync("INFO", "replication"))!.Contains("master_link_status:up", StringComparison.Ordinal), "the replica is in sync");
        }

        SentinelPorts = [FreePort.Next(), FreePort.Next(), FreePort.Next()];
        foreach (var port in SentinelPorts)
        {
            _sentinels.Add(StartSentinel(port));
        }

        _sentinelClient = await ConnectSentinelsAsync();

        // A failover needs a quorum of Sentinels that know each other and a replica they consider good;
        // killing the primary before that only gets "-failover-abort-no-good-slave".
        await WaitUntilAsync(async () =>
        {
            foreach (var port in SentinelPorts)
            {
                var server = _sentinelClient.GetServer(IPAddress.Loopback, port);
                var primary = (await server.SentinelMasterAsync(ServiceName)).ToDictionary(pair => pair.Key, pair => pair.Value);
                var replicas = await server.SentinelReplicasAsync(ServiceName);
                if (primary["num-other-sentinels"] != "2" || replicas.Length != 1 || replicas[0].Single(pair => pair.Key == "flags").Value != "slave")
                {
                    return false;
                }
            }

            return true;
        }, "the Sentinels know each other and the replica", TimeSpan.FromSeconds(30));
    }

    /// <summary>The port of the primary as the Sentinels see it now.</summary>
    public async Task<int> CurrentPrimaryPortAsync()
    {
        var address = (IPEndPoint?)await _sentinelClient!.GetServer(IPAddress.Loopback, SentinelPorts[0]).SentinelGetMasterAddressByNameAsync(ServiceName);
        return address?.Port ?? 0;
    }

    /// <summary>SIGKILL to the primary: its clients see their connections reset.</summary>
    public void KillPrimary() => Primary.Kill();

    /// <summary>Waits until the Sentinels have promoted another server; returns its port.</summary>
    public async Task<int> WaitForNewPrimaryAsync(int oldPort, TimeSpan within)
    {
        var port = 0;
        await WaitUntilAsync(async () =>
        {
            port = await CurrentPrimaryPortAsync();
            return port != 0 && port != oldPort;
        }, "the Sentinels promoted the replica", within);
        return port;
    }

    public async Task DisposeAsync()
    {
        _sentinelClient?.Dispose();
        foreach (var sentinel in _sentinels)
        {
            if (!sentinel.HasExited)
            {
                sentinel.Kill();
                sentinel.WaitForExit(5000);
            }

            sentinel.Dispose();
        }

        await Replica.DisposeAsync();
        await Primary.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private Process StartSentinel(int port)
    {
        // Sentinel rewrites its configuration file as it learns; each gets its own, writable.
        var file = Path.Combine(_directory, $"sentinel-{port.ToString(CultureInfo.InvariantCulture)}.conf");
        File.WriteAllText(file, $"""
            port {port}
            bind 127.0.0.1
            dir {_directory}
            sentinel monitor {ServiceName} 127.0.0.1 {Primary.Port} 2
            sentinel down-after-milliseconds {ServiceName} 1000
            sentinel failover-timeout {ServiceName} 5000
            sentinel parallel-syncs {ServiceName} 1

            """);
        var start = new ProcessStartInfo("redis-server")
        {
            ArgumentList = { file, "--sentinel", "--loglevel", "warning" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server --sentinel did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private async Task<ConnectionMultiplexer> ConnectSentinelsAsync()
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                var endpoints = string.Join(",", SentinelPorts.Select(port => $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"));
                var client = await ConnectionMultiplexer.SentinelConnectAsync($"{endpoints},abortConnect=false,connectTimeout=1000,asyncTimeout=1000");
                if (SentinelPorts.All(port => client.GetServer(IPAddress.Loopback, port).IsConnected))
                {
                    return client;
                }

                client.Dispose();
            }
            catch (RedisException) when (deadline.Elapsed < TimeSpan.FromSeconds(10))
            {
            }

            if (deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException("the Sentinels did not answer within 10 s; is redis-server installed (apt-get install -y redis-server)?");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Polls until <paramref name="condition"/> holds, treating Redis refusing meanwhile (a failover) as "not
    /// yet"; throws after <paramref name="within"/> (10 s when not given).
    /// </summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(10);
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await condition())
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException && deadline.Elapsed < limit)
            {
            }

            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"timed out after {limit.TotalSeconds} s waiting until {what}");
            }

            await Task.Delay(50);
        }
    }
}
