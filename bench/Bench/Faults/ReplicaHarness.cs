using System.Diagnostics;
using Bench.Load;
using Bench.Servers;
using HdrHistogram;
using StackExchange.Redis;

namespace Bench.Faults;

/// <summary>
/// What the fault and soak scenarios share: the replicas behind HAProxy, the editor traffic through it, a
/// sample of the gateways' memory and handles every second, and the measures taken on Redis routes.
/// </summary>
internal sealed class ReplicaHarness : IAsyncDisposable
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("routes:changed");

    /// <summary>
    /// Every replica as it would be deployed behind a balancer: readiness first for two seconds at SIGTERM
    /// (HAProxy probes every 500 ms), activity flushed every second so the scenario need not wait 10.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> GatewaySettings = new Dictionary<string, string>
    {
        ["Gateway__Forwarding__ShutdownDelay"] = "00:00:02",
        ["Gateway__Activity__FlushInterval"] = "00:00:01",
    };

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private readonly List<Mark> _marks = [];

    private ReplicaHarness(BenchStack stack, ConnectionMultiplexer redis, TrafficShape shape)
    {
        Stack = stack;
        RedisConnection = redis;
        Balancer = new BalancerStats(stack.BalancerStatsPort);
        Recorder = new TrafficRecorder();
        Traffic = EditorTraffic.Start(stack.BalancerPort, shape, Recorder);
        _sampler = SampleAsync();
    }

    public BenchStack Stack { get; }

    public ConnectionMultiplexer RedisConnection { get; }

    public IDatabase Redis => RedisConnection.GetDatabase();

    public BalancerStats Balancer { get; }

    public TrafficRecorder Recorder { get; }

    public EditorTraffic Traffic { get; }

    public IReadOnlyList<Mark> Marks => _marks;

    public static async Task<ReplicaHarness> StartAsync(string repoRoot, string gatewayDirectory, string runDirectory, int replicas, TrafficShape shape)
    {
        var stack = await BenchStack.StartReplicasAsync(repoRoot, gatewayDirectory, runDirectory, replicas, GatewaySettings);
        try
        {
            using var stats = new BalancerStats(stack.BalancerStatsPort);
            foreach (var replica in stack.Replicas)
            {
                await stats.WaitUntilUpAsync(replica.Name, TimeSpan.FromSeconds(30));
            }

            // Each replica has looked both workspaces up once before the editors arrive all at once: on the one
            // shared core a cold replica's first lookups can outlast Gateway:Redis:LookupTimeout and be refused
            // (503, retried), and its share of the sockets would go to the others.
            foreach (var replica in stack.Replicas)
            {
                foreach (var sid in new[] { BenchStack.HttpSid, BenchStack.WebSocketSid })
                {
                    using var warm = new RawHttpConnection(replica.Port, $"/ws/{sid}/");
                    for (var i = 0; i < 20 && await warm.SendAsync(CancellationToken.None) != 200; i++)
                    {
                        await Task.Delay(50);
                    }
                }
            }

            // AbortOnConnectFail off: the scenarios restart and hang this Redis; the harness's own reads wait it out.
            var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{stack.RedisPort},abortConnect=false,connectRetry=10");
            return new ReplicaHarness(stack, redis, shape);
        }
        catch
        {
            stack.Dispose();
            throw;
        }
    }

    public void Mark(string label)
    {
        _marks.Add(new Mark(Recorder.Elapsed, label));
        Console.WriteLine($"   {Recorder.Elapsed,6:F1} s  {label}");
    }

    /// <summary>The phase's counts as a row of the report.</summary>
    public static FaultRow Row(PhaseRecord phase, double? recoverySeconds, string notes)
    {
        var echo = phase.Echo();
        var disconnects = phase.Disconnects;
        return new FaultRow(
            phase.Name,
            Math.Round(phase.StartSeconds, 1),
            Math.Round(phase.EndSeconds - phase.StartSeconds, 1),
            echo.TotalCount,
            P(echo, 99),
            phase.Outcome(RequestOutcome.Succeeded),
            phase.Outcome(RequestOutcome.Retried),
            phase.Outcome(RequestOutcome.RetryableAnswer),
            phase.Outcome(RequestOutcome.Failed),
            phase.Corrupted,
            disconnects.Count,
            disconnects.Count == 0 ? null : Math.Round(disconnects.Max(d => d.ReconnectedMilliseconds ?? double.PositiveInfinity), 1),
            recoverySeconds is { } r ? Math.Round(r, 2) : null,
            notes);
    }

    /// <summary>Milliseconds at a percentile of a microsecond histogram; 0 when empty.</summary>
    public static double P(LongHistogram histogram, double percentile) =>
        histogram.TotalCount == 0 ? 0 : Math.Round(histogram.GetValueAtPercentile(percentile) / 1000.0, 2);

    /// <summary>
    /// Points a workspace at another backend (HSET + PUBLISH, as the operator does) and measures how long until each
    /// replica, asked directly, answers from the new one: the propagation of one move to every replica.
    /// </summary>
    public async Task<List<double>> MoveAsync(string sid, bool toTwo, TimeSpan patience)
    {
        var expected = toTwo ? (byte)'t' : (byte)'o';
        await Redis.HashSetAsync("hosts", sid, $"127.0.0.1:{(toTwo ? Stack.BackendTwoPort : Stack.BackendOnePort)}");
        var published = Stopwatch.GetTimestamp();
        await Redis.PublishAsync(Channel, sid);
        var seen = await Task.WhenAll(Stack.Replicas.Select(replica => Task.Run(async () =>
        {
            using var probe = new RawHttpConnection(replica.Port, $"/ws/{sid}/");
            while (Stopwatch.GetElapsedTime(published) < patience)
            {
                if (await probe.SendAsync(CancellationToken.None) == 200 && probe.FirstBodyByte == expected)
                {
                    return Stopwatch.GetElapsedTime(published).TotalMilliseconds;
                }
            }

            return double.PositiveInfinity;
        })));
        return [.. seen];
    }

    /// <summary>Per-second points of the run, with the gateways' sample of that second.</summary>
    public IReadOnlyList<TimelinePoint> Timeline() =>
        [.. Recorder.Seconds.Select(s => new TimelinePoint(
            s.Second,
            s.WebSocket.Count,
            Math.Round(s.WebSocket.Percentile(50), 3),
            Math.Round(s.WebSocket.Percentile(99), 3),
            s.Http.Count,
            Math.Round(s.Http.Percentile(99), 3),
            s.Sample?.ResidentBytes ?? 0,
            s.Sample?.Threads ?? 0,
            s.Sample?.Descriptors ?? 0,
            s.Sample?.WorkspaceConnections ?? 0))];

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Traffic.DisposeAsync();
            Recorder.EndPhases();
            await _stop.CancelAsync();
            await _sampler;
        }
        finally
        {
            // Whatever went wrong above, no server of the run outlives it.
            Stack.Dispose();
            Balancer.Dispose();
            await RedisConnection.DisposeAsync();
            _stop.Dispose();
        }
    }

    /// <summary>The gateways' memory, threads, descriptors and connections to workspaces, summed, once a second.</summary>
    private async Task SampleAsync()
    {
        using var ticks = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await ticks.WaitForNextTickAsync(_stop.Token))
            {
                if (Sample() is { } sample)
                {
                    Recorder.Sample(sample);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The gateways' handles now; null when none could be read.</summary>
    public ServerSample? Sample()
    {
        long resident = 0;
        int threads = 0, descriptors = 0, replicas = 0;
        var sockets = new HashSet<long>();
        foreach (var replica in Stack.Replicas)
        {
            try
            {
                var process = replica.Process;
                if (process.HasExited)
                {
                    continue;
                }

                var handles = process.Handles();
                resident += process.ResidentBytes();
                threads += handles.Threads;
                descriptors += handles.Descriptors;
                sockets.UnionWith(handles.SocketInodes);
                replicas++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException)
            {
                // Exiting or replaced while read (a replica being restarted).
            }
        }

        if (replicas == 0)
        {
            return null;
        }

        var workspacePorts = new HashSet<int> { Stack.BackendOnePort, Stack.BackendTwoPort, Stack.EchoPort };
        return new ServerSample(Recorder.Elapsed, resident, threads, descriptors, TcpTable.CountTo(sockets, workspacePorts), replicas);
    }
}
