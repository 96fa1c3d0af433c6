using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's own meter, <c>Gateway</c>: what YARP does not measure (its telemetry is EventSource
/// counters, not a meter) and what operators ask first when a workspace misbehaves. Instruments cost a
/// flag check when nobody listens.
/// </summary>
public sealed class GatewayMetrics
{
    public const string MeterName = "Gateway";

    private readonly Counter<long> _cacheHits;
    private readonly Counter<long> _cacheMisses;
    private readonly Histogram<double> _lookupDuration;
    private readonly Counter<long> _invalidations;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _fastPathRequests;

    public GatewayMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        Meter = meter;
        _cacheHits = meter.CreateCounter<long>("gateway.route_cache.hits", "{request}", "Requests answered from the route cache");
        _cacheMisses = meter.CreateCounter<long>("gateway.route_cache.misses", "{request}", "Requests that needed a route lookup");
        _lookupDuration = meter.CreateHistogram<double>("gateway.redis.lookup.duration", "s", "Duration of HGET route lookups, by outcome");
        _invalidations = meter.CreateCounter<long>("gateway.invalidations.received", "{message}", "Route invalidations received, by scope (sid, all, gap)");
        _errors = meter.CreateCounter<long>("gateway.errors", "{response}", "Responses the gateway answered itself with an error, by kind");
        _fastPathRequests = meter.CreateCounter<long>(
            "gateway.fast_path.requests", "{request}", "Requests forwarded by the connection-level fast path (not in http.server.request.duration)");
    }

    public Meter Meter { get; }

    public void CacheHit() => _cacheHits.Add(1);

    public void CacheMiss() => _cacheMisses.Add(1);

    public void LookupCompleted(long startedAt, bool succeeded) =>
        _lookupDuration.Record(Stopwatch.GetElapsedTime(startedAt).TotalSeconds, new KeyValuePair<string, object?>("outcome", succeeded ? "ok" : "unavailable"));

    public void InvalidationReceived(string scope) => _invalidations.Add(1, new KeyValuePair<string, object?>("scope", scope));

    public void FastPathRequest() => _fastPathRequests.Add(1);

    public void Error(string kind) => _errors.Add(1, new KeyValuePair<string, object?>("kind", kind));

    /// <summary>Gauges read from live counts: open tunnels (optionally per sid) and workspace sockets.</summary>
    public void Observe(Func<int> tunnels, Func<int> workspaceConnections, Func<IEnumerable<KeyValuePair<string, int>>>? tunnelsPerSid)
    {
        Meter.CreateObservableUpDownCounter("gateway.tunnels.open", tunnels, "{connection}", "Upgraded (WebSocket) connections open through the gateway");
        Meter.CreateObservableUpDownCounter("gateway.workspace_connections.open", workspaceConnections, "{connection}", "TCP connections from the gateway to workspaces, pooled and tunnelled");
        if (tunnelsPerSid is not null)
        {
            Meter.CreateObservableGauge("gateway.tunnels.open_by_sid",
                () => tunnelsPerSid().Select(s => new Measurement<int>(s.Value, new KeyValuePair<string, object?>("sid", s.Key))),
                "{connection}", "Open tunnels per workspace (bounded by Gateway:Telemetry:MaxSidSeries)");
        }
    }
}
