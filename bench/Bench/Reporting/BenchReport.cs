using Bench.Load;

namespace Bench.Reporting;

internal sealed record TargetResult(
    string Name,
    string Description,
    string Invalidation,
    HttpRun? Http,
    WrkRun? Wrk,
    HttpRun? FixedRate,
    EchoRun? WebSocketEcho,
    IdleRun? IdleWebSockets,
    ChurnRun? Churn,
    ColdRun? ColdPath)
{
    public StartupRun? Startup { get; init; }

    public List<LargeResponseRun>? LargeResponses { get; init; }

    /// <summary>The gateway only: the same workspace by path and by host name, interleaved.</summary>
    public HostRoutingRun? HostRouting { get; init; }

    /// <summary>A 64 MiB POST streamed to the echo backend.</summary>
    public LargeResponseRun? Upload { get; init; }

    /// <summary>Echo of 64 KiB messages over 8 connections.</summary>
    public EchoRun? LargeFrames { get; init; }

    /// <summary>Echo of 32-byte messages over 1,000 connections (200 in quick mode).</summary>
    public EchoRun? ManyWebSockets { get; init; }

    /// <summary>Handshakes, HTTPS keep-alive over HTTP/1.1 and HTTP/2, and WebSocket echo over TLS.</summary>
    public TlsRun? Tls { get; init; }
}

internal sealed record BenchSettings(
    string Mode,
    int HttpConnections,
    double FixedRate,
    int WebSocketConnections,
    int IdleWebSockets,
    double SecondsPerRun,
    double WarmupSeconds,
    int ColdSids,
    string ServerCore,
    string GeneratorCore);

internal sealed record BenchReport(
    DateTimeOffset Date,
    Dictionary<string, string> Machine,
    Dictionary<string, string> Versions,
    BenchSettings Settings,
    List<TargetResult> Targets,
    Dictionary<string, double> Ratios);
