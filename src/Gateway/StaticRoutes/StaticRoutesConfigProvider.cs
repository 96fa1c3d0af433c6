using Gateway.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace Gateway.StaticRoutes;

/// <summary>
/// Feeds YARP the fixed backends from <c>Gateway:StaticRoutes</c> (e.g. the web API), rebuilt when
/// <c>config/gateway.json</c> changes. Workspaces are not routes: they are resolved per request.
/// </summary>
internal sealed partial class StaticRoutesConfigProvider : IProxyConfigProvider, IDisposable
{
    private readonly ILogger<StaticRoutesConfigProvider> _logger;
    private readonly IDisposable? _subscription;
    private volatile Snapshot _current;

    public StaticRoutesConfigProvider(IOptionsMonitor<GatewayOptions> options, ILogger<StaticRoutesConfigProvider> logger)
    {
        _logger = logger;
        _current = new Snapshot(options.CurrentValue.StaticRoutes);
        _subscription = options.OnChange(Update);
    }

    public IProxyConfig GetConfig() => _current;

    public void Dispose() => _subscription?.Dispose();

    private void Update(GatewayOptions options)
    {
        var previous = _current;
        _current = new Snapshot(options.StaticRoutes);
        LogReloaded(_current.Routes.Count);
        previous.SignalChange();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Static routes reloaded: {Count} route(s)")]
    private partial void LogReloaded(int count);

    // The token source has no timer, so it holds nothing to release; YARP may still read a replaced
    // snapshot's token after the swap, so it is never disposed.
#pragma warning disable CA1001
    private sealed class Snapshot : IProxyConfig
    {
        private readonly CancellationTokenSource _changed = new();

        public Snapshot(IReadOnlyDictionary<string, StaticRouteOptions> routes)
        {
            var routeConfigs = new List<RouteConfig>(routes.Count);
            var clusterConfigs = new List<ClusterConfig>(routes.Count);
            foreach (var (id, route) in routes)
            {
                var prefix = route.PathPrefix.TrimEnd('/');
                routeConfigs.Add(new RouteConfig
                {
                    RouteId = id,
                    ClusterId = id,
                    Match = new RouteMatch { Path = prefix + "/{**rest}" },
                });
                clusterConfigs.Add(new ClusterConfig
                {
                    ClusterId = id,
                    Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal)
                    {
                        [id] = new DestinationConfig { Address = route.Destination },
                    },
                });
            }

            Routes = routeConfigs;
            Clusters = clusterConfigs;
            ChangeToken = new CancellationChangeToken(_changed.Token);
        }

        public IReadOnlyList<RouteConfig> Routes { get; }

        public IReadOnlyList<ClusterConfig> Clusters { get; }

        public IChangeToken ChangeToken { get; }

        public void SignalChange() => _changed.Cancel();
    }
#pragma warning restore CA1001
}
