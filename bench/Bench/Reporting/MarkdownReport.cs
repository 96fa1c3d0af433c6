using System.Globalization;
using System.Text;
using Bench.Load;

namespace Bench.Reporting;

internal static class MarkdownReport
{
    public static Dictionary<string, double> Ratios(List<TargetResult> targets)
    {
        var ratios = new Dictionary<string, double>();
        var gateway = targets.Find(t => t.Name == "gateway");
        if (gateway is null)
        {
            return ratios;
        }

        foreach (var other in targets.Where(t => t.Name != "gateway"))
        {
            // wrk is the throughput figure: our C# generator tops out near 40k req/s on its core, which
            // caps the faster targets' closed-loop numbers; its own figure stays in the table.
            if (gateway.Wrk is { } g && other.Wrk is { RequestsPerSecond: > 0 } o)
            {
                ratios[$"http_rps_gateway_vs_{other.Name}"] = Math.Round(g.RequestsPerSecond / o.RequestsPerSecond, 3);
                if (g.ServerCpuMicrosecondsPerRequest is { } gc && o.ServerCpuMicrosecondsPerRequest is > 0 and var oc && other.Name != "direct")
                {
                    ratios[$"http_cpu_per_request_gateway_vs_{other.Name}"] = Math.Round(gc / oc, 3);
                }
            }

            foreach (var ours in (gateway.LargeResponses ?? []).Append(gateway.Upload).OfType<LargeResponseRun>())
            {
                if (other.LargeResponses?.Append(other.Upload).FirstOrDefault(r => r?.Size == ours.Size) is { MegabytesPerSecond: > 0 } theirs && other.Name != "direct")
                {
                    ratios[$"large_{ours.Size.Replace(' ', '_')}_mibps_gateway_vs_{other.Name}"] = Math.Round(ours.MegabytesPerSecond / theirs.MegabytesPerSecond, 3);
                    if (ours.ServerCpuMillisecondsPerMegabyte is { } ourCpu && theirs.ServerCpuMillisecondsPerMegabyte is > 0 and var theirCpu)
                    {
                        ratios[$"large_{ours.Size.Replace(' ', '_')}_cpu_per_mib_gateway_vs_{other.Name}"] = Math.Round(ourCpu / theirCpu, 3);
                    }
                }
            }

            if (gateway.LargeFrames is { } gb && other.LargeFrames is { MessagesPerSecond: > 0 } ob && other.Name != "direct")
            {
                ratios[$"ws_64k_msgs_gateway_vs_{other.Name}"] = Math.Round(gb.MessagesPerSecond / ob.MessagesPerSecond, 3);
            }

            if (gateway.ManyWebSockets is { } gm && other.ManyWebSockets is { MessagesPerSecond: > 0 } om && other.Name != "direct")
            {
                ratios[$"ws_many_msgs_gateway_vs_{other.Name}"] = Math.Round(gm.MessagesPerSecond / om.MessagesPerSecond, 3);
                ratios[$"ws_many_p99_gateway_vs_{other.Name}"] = Math.Round(gm.RoundTrip.P99 / om.RoundTrip.P99, 3);
            }

            if (gateway.WebSocketEcho is { } gw && other.WebSocketEcho is { MessagesPerSecond: > 0 } ow)
            {
                ratios[$"ws_msgs_gateway_vs_{other.Name}"] = Math.Round(gw.MessagesPerSecond / ow.MessagesPerSecond, 3);
                if (gw.ServerCpuMicrosecondsPerMessage is { } gc && ow.ServerCpuMicrosecondsPerMessage is > 0 and var oc && other.Name != "direct")
                {
                    ratios[$"ws_cpu_per_message_gateway_vs_{other.Name}"] = Math.Round(gc / oc, 3);
                }
            }

            if (gateway.Tls is { } gt && other.Tls is { } ot)
            {
                static void Add(Dictionary<string, double> ratios, string key, double? ours, double? theirs)
                {
                    if (ours is { } o && theirs is > 0 and var t)
                    {
                        ratios[key] = Math.Round(o / t, 3);
                    }
                }

                Add(ratios, $"tls_handshakes_gateway_vs_{other.Name}", gt.New?.HandshakesPerSecond, ot.New?.HandshakesPerSecond);
                Add(ratios, $"tls_handshake_cpu_gateway_vs_{other.Name}", gt.New?.ServerCpuMicrosecondsPerHandshake, ot.New?.ServerCpuMicrosecondsPerHandshake);
                Add(ratios, $"tls_resumed_handshakes_gateway_vs_{other.Name}", gt.Resumed?.HandshakesPerSecond, ot.Resumed?.HandshakesPerSecond);
                Add(ratios, $"https_h1_rps_gateway_vs_{other.Name}", gt.Http1?.RequestsPerSecond, ot.Http1?.RequestsPerSecond);
                Add(ratios, $"https_h1_cpu_per_request_gateway_vs_{other.Name}", gt.Http1?.ServerCpuMicrosecondsPerRequest, ot.Http1?.ServerCpuMicrosecondsPerRequest);
                Add(ratios, $"https_h2_rps_gateway_vs_{other.Name}", gt.Http2?.RequestsPerSecond, ot.Http2?.RequestsPerSecond);
                Add(ratios, $"https_h2_cpu_per_request_gateway_vs_{other.Name}", gt.Http2?.ServerCpuMicrosecondsPerRequest, ot.Http2?.ServerCpuMicrosecondsPerRequest);
                Add(ratios, $"wss_msgs_gateway_vs_{other.Name}", gt.WebSocket?.MessagesPerSecond, ot.WebSocket?.MessagesPerSecond);
                Add(ratios, $"wss_cpu_per_message_gateway_vs_{other.Name}", gt.WebSocket?.ServerCpuMicrosecondsPerMessage, ot.WebSocket?.ServerCpuMicrosecondsPerMessage);
            }

            if (gateway.FixedRate is { } gf && other.FixedRate is { Latency.P99: > 0 } of)
            {
                ratios[$"p99_at_rate_gateway_vs_{other.Name}"] = Math.Round(gf.Latency.P99 / of.Latency.P99, 3);
            }

            if (gateway.ColdPath is { } gcold && other.ColdPath is { Cold.P99: > 0, Warm.P99: > 0 } ocold)
            {
                ratios[$"cold_first_p99_gateway_vs_{other.Name}"] = Math.Round(gcold.Cold.P99 / ocold.Cold.P99, 3);
                ratios[$"cached_p99_gateway_vs_{other.Name}"] = Math.Round(gcold.Warm.P99 / ocold.Warm.P99, 3);
            }

            if (gateway.IdleWebSockets is { Opened: > 0 } gi && other.IdleWebSockets is { Opened: > 0, BytesPerConnection: > 0 } oi)
            {
                ratios[$"idle_websocket_memory_gateway_vs_{other.Name}"] = Math.Round(gi.BytesPerConnection / oi.BytesPerConnection, 3);
            }
        }

        return ratios;
    }

    public static string Render(BenchReport report)
    {
        var s = report.Settings;
        var md = new StringBuilder();
        md.AppendLine(Inv($"Run {report.Date:yyyy-MM-dd HH:mm} UTC, {s.Mode} mode, on {report.Machine.GetValueOrDefault("cpu")} ({report.Machine.GetValueOrDefault("cores")} cores), {report.Versions.GetValueOrDefault("dotnet")}, {report.Versions.GetValueOrDefault("nginx")}, {report.Versions.GetValueOrDefault("redis")}, gateway {report.Versions.GetValueOrDefault("gateway-commit")}."));
        md.AppendLine(Inv($"Servers on core {s.ServerCore}, load generator on core {s.GeneratorCore}; {s.SecondsPerRun:0.#} s per run after {s.WarmupSeconds:0.#} s warm-up."));
        md.AppendLine();
        md.AppendLine(Inv($"**HTTP**: max throughput with {s.HttpConnections} keep-alive connections (closed loop: wrk, and our own generator, which tops out near 40k req/s), the server's CPU time per request during the wrk run (for direct: the backend's), and latency at a fixed {s.FixedRate:N0} req/s (open loop, corrected for coordinated omission)."));
        md.AppendLine();
        md.AppendLine("| target | wrk req/s | harness req/s | server CPU µs/req | p50 ms | p99 ms | p99.9 ms | max ms | errors |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var t in report.Targets)
        {
            var fixedRate = t.FixedRate?.Latency;
            md.AppendLine(Inv($"| {t.Name} | {t.Wrk?.RequestsPerSecond:N0} | {t.Http?.RequestsPerSecond:N0} | {t.Wrk?.ServerCpuMicrosecondsPerRequest:F1} | {fixedRate?.P50:F2} | {fixedRate?.P99:F2} | {fixedRate?.P999:F2} | {fixedRate?.Max:F1} | {(t.Http?.Latency.Errors ?? 0) + (fixedRate?.Errors ?? 0) + (t.Wrk?.Errors ?? 0)} |"));
        }

        foreach (var t in report.Targets.Where(t => t.Startup is not null))
        {
            var st = t.Startup!;
            md.AppendLine();
            md.AppendLine(Inv($"**Start-up** ({t.Name} started cold, no runtime environment variables): listening {st.ListeningAfterSeconds:F1} s after start; 90% of the rate of its last 5 s first reached in second {st.SecondsToFullSpeed}. Req/s per second: {string.Join(", ", st.RequestsPerSecond.Select(r => Inv($"{r / 1000:F1}k")))}."));
        }

        foreach (var t in report.Targets)
        {
            if (t.HostRouting is { PathRuns.Count: > 0, HostRuns.Count: > 0 } hr)
            {
                static string Runs(List<WrkRun> runs) => string.Join(" / ", runs.Select(r => Inv($"{r.RequestsPerSecond:N0} req/s at {r.ServerCpuMicrosecondsPerRequest:F1} µs")));
                md.AppendLine();
                md.AppendLine(Inv($"**Host vs path routing** ({t.Name}, wrk, same workspace and cookie, interleaved): by path {Runs(hr.PathRuns)}; by host name {Runs(hr.HostRuns)}."));
            }
        }

        if (report.Targets.Any(t => t.LargeResponses is { Count: > 0 } || t.Upload is not null))
        {
            md.AppendLine();
            md.AppendLine("**Large bodies**: whole responses over 8 keep-alive connections and a 64 MiB upload streamed over 2 (wrk), body MiB/s and the server's CPU per MiB (for direct: nginx serving the file, the echo backend reading the upload).");
            md.AppendLine();
            md.AppendLine("| target | size | MiB/s | server CPU ms/MiB | errors |");
            md.AppendLine("| --- | --- | ---: | ---: | ---: |");
            foreach (var t in report.Targets)
            {
                foreach (var l in (t.LargeResponses ?? []).Append(t.Upload).OfType<LargeResponseRun>())
                {
                    md.AppendLine(Inv($"| {t.Name} | {l.Size} | {l.MegabytesPerSecond:N0} | {l.ServerCpuMillisecondsPerMegabyte:F2} | {l.Errors} |"));
                }
            }
        }

        md.AppendLine();
        md.AppendLine(Inv($"**WebSocket**: echo round trips over {s.WebSocketConnections} connections; {s.IdleWebSockets:N0} idle connections held open (proxy memory growth per connection)."));
        md.AppendLine();
        md.AppendLine("| target | msgs/s | server CPU µs/msg | RTT p50 ms | RTT p99 ms | idle opened | still alive | KiB/conn |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var t in report.Targets)
        {
            var idle = t.IdleWebSockets;
            md.AppendLine(Inv($"| {t.Name} | {t.WebSocketEcho?.MessagesPerSecond:N0} | {t.WebSocketEcho?.ServerCpuMicrosecondsPerMessage:F1} | {t.WebSocketEcho?.RoundTrip.P50:F2} | {t.WebSocketEcho?.RoundTrip.P99:F2} | {(idle is null ? "" : $"{idle.Opened:N0}/{idle.Requested:N0}")} | {idle?.AliveAfterHold:N0} | {(idle is null ? "" : (idle.BytesPerConnection / 1024).ToString("F1", CultureInfo.InvariantCulture))} |"));
        }

        if (report.Targets.Any(t => t.LargeFrames is not null || t.ManyWebSockets is not null))
        {
            md.AppendLine();
            md.AppendLine(Inv($"**WebSocket, large and many**: 64 KiB messages echoed over 8 connections (MiB/s each way), and 32-byte messages over {(s.Mode.StartsWith("quick", StringComparison.Ordinal) ? 200 : 1000):N0} connections at once."));
            md.AppendLine();
            md.AppendLine("| target | 64 KiB msgs/s | MiB/s each way | server CPU µs/msg | many: msgs/s | many: RTT p99 ms | many: server CPU µs/msg |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
            foreach (var t in report.Targets)
            {
                var big = t.LargeFrames;
                var many = t.ManyWebSockets;
                md.AppendLine(Inv($"| {t.Name} | {big?.MessagesPerSecond:N0} | {big?.MessagesPerSecond / 16:N0} | {big?.ServerCpuMicrosecondsPerMessage:F1} | {many?.MessagesPerSecond:N0} | {many?.RoundTrip.P99:F2} | {many?.ServerCpuMicrosecondsPerMessage:F1} |"));
            }
        }

        if (report.Targets.Any(t => t.Tls is not null))
        {
            md.AppendLine();
            md.AppendLine(Inv($"**TLS at the edge** (the same EC P-256 certificate, TLS 1.2/1.3 with the same AEAD suites): new connections one after another by `openssl s_time` (full handshakes, then resumed ones), keep-alive HTTPS by `h2load` ({s.HttpConnections} HTTP/1.1 connections; 16 HTTP/2 connections of 10 streams), and WebSocket echo over TLS ({s.WebSocketConnections} connections; the gateway over HTTP/2, RFC 8441, all on one connection as a browser does; nginx 1.22 over HTTP/1.1, having no RFC 8441). CPU is the server's per handshake, request or message."));
            md.AppendLine();
            md.AppendLine("| target | handshakes/s | CPU µs/handshake | resumed/s | CPU µs/resumed | HTTP/1.1 req/s | CPU µs/req | HTTP/2 req/s | CPU µs/req | WebSocket | msgs/s | CPU µs/msg | RTT p99 ms | failed |");
            md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: |");
            foreach (var t in report.Targets.Where(t => t.Tls is not null))
            {
                var x = t.Tls!;
                md.AppendLine(Inv($"| {t.Name} | {x.New?.HandshakesPerSecond:N0} | {x.New?.ServerCpuMicrosecondsPerHandshake:F0} | {x.Resumed?.HandshakesPerSecond:N0} | {x.Resumed?.ServerCpuMicrosecondsPerHandshake:F0} | {x.Http1?.RequestsPerSecond:N0} | {x.Http1?.ServerCpuMicrosecondsPerRequest:F1} | {x.Http2?.RequestsPerSecond:N0} | {x.Http2?.ServerCpuMicrosecondsPerRequest:F1} | {x.WebSocketProtocol} | {x.WebSocket?.MessagesPerSecond:N0} | {x.WebSocket?.ServerCpuMicrosecondsPerMessage:F1} | {x.WebSocket?.RoundTrip.P99:F2} | {(x.Http1?.Failed ?? 0) + (x.Http2?.Failed ?? 0) + (x.WebSocket?.RoundTrip.Errors ?? 0)} |"));
            }
        }

        md.AppendLine();
        md.AppendLine("**Route churn**: one workspace moved between two backends (HSET + PUBLISH) while the others take fixed-rate traffic. Propagation = PUBLISH -> first request answered by the new backend.");
        md.AppendLine();
        md.AppendLine("| target | invalidation | moves | not seen in 5 s | propagation p50 ms | p99 ms | others p99 ms quiet | others p99 ms churning |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var t in report.Targets.Where(t => t.Churn is not null))
        {
            var c = t.Churn!;
            md.AppendLine(Inv($"| {t.Name} | {t.Invalidation} | {c.Moves} | {c.NotSeenWithin5s} | {c.Propagation.P50:F2} | {c.Propagation.P99:F2} | {c.OthersWithoutChurn.Latency.P99:F2} | {c.OthersWithChurn.Latency.P99:F2} |"));
        }

        md.AppendLine();
        md.AppendLine(Inv($"**Cold path**: first request for each of {s.ColdSids} workspaces never seen before (a Redis lookup), then the second (cached), one connection, sequential."));
        md.AppendLine();
        md.AppendLine("| target | first p50 ms | first p99 ms | cached p50 ms | cached p99 ms |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var t in report.Targets.Where(t => t.ColdPath is not null))
        {
            var c = t.ColdPath!;
            md.AppendLine(Inv($"| {t.Name} | {c.Cold.P50:F3} | {c.Cold.P99:F3} | {c.Warm.P50:F3} | {c.Warm.P99:F3} |"));
        }

        md.AppendLine();
        md.AppendLine("**Ratios** (gateway / other; throughput above 1 is better, CPU per request and p99 below 1 are better):");
        md.AppendLine();
        foreach (var (key, value) in report.Ratios)
        {
            md.AppendLine(Inv($"- `{key}`: {value:F2}"));
        }

        return md.ToString();
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
