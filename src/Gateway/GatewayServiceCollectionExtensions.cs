using Gateway.Activity;
using Gateway.Auth;
using Gateway.Configuration;
using Gateway.Cors;
using Gateway.FastPath;
using Gateway.Forwarding;
using Gateway.Health;
using Gateway.Routing;
using Gateway.StaticRoutes;
using Gateway.Telemetry;
using Gateway.Tls;
using Gateway.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ServiceDefaults.Health;
using ServiceDefaults.Redis;
using Yarp.ReverseProxy.Configuration;

namespace Gateway;

public static class GatewayServiceCollectionExtensions
{
    /// <summary>Everything the gateway needs, bound to the <c>Gateway</c> configuration section.</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();
        services.AddSingleton<IOptionsMonitor<GatewayOptions>>(sp => new LastValidOptionsMonitor(
            new OptionsMonitor<GatewayOptions>(
                sp.GetRequiredService<IOptionsFactory<GatewayOptions>>(),
                sp.GetServices<IOptionsChangeTokenSource<GatewayOptions>>(),
                sp.GetRequiredService<IOptionsMonitorCache<GatewayOptions>>()),
            sp.GetRequiredService<ILogger<LastValidOptionsMonitor>>()));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<ServerCertificates>();
        services.AddSingleton<StrictTransportSecurity>();
        services.AddOptions<HttpsRedirectionOptions>().Configure<IOptions<GatewayOptions>>((redirect, gateway) =>
        {
            // 308 keeps the method and body (RFC 9110 §15.4.9): a form posted to http:// still arrives.
            redirect.RedirectStatusCode = StatusCodes.Status308PermanentRedirect;
            redirect.HttpsPort = gateway.Value.Endpoints.HttpsPort;
        });
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<GatewayOptions>, ServerCertificates, ILoggerFactory>((kestrel, gateway, certificates, loggers) =>
        {
            var limits = gateway.Value.Limits;
            kestrel.Limits.MaxRequestBodySize = limits.MaxRequestBodySize;
            kestrel.Limits.MaxRequestHeadersTotalSize = limits.MaxRequestHeadersTotalSize;
            kestrel.Limits.MaxRequestHeaderCount = limits.MaxRequestHeaderCount;
            kestrel.Limits.MaxRequestLineSize = limits.MaxRequestLineSize;
            kestrel.Limits.MaxConcurrentConnections = limits.MaxConcurrentConnections;
            kestrel.Limits.RequestHeadersTimeout = limits.RequestHeadersTimeout;
            kestrel.Limits.KeepAliveTimeout = limits.KeepAliveTimeout;

            kestrel.RequestHeaderEncodingSelector = ContentLengthDigits.Select;

            // Upgraded connections are the editor itself; they count against MaxConcurrentConnections.
            kestrel.Limits.MaxConcurrentUpgradedConnections = null;

            ConfigureHttp2(kestrel.Limits.Http2, limits.Http2);
            var fastPath = gateway.Value.Forwarding.FastPath;
            if (EdgeListeners.Configured(gateway.Value.Endpoints))
            {
                EdgeListeners.Listen(kestrel, gateway.Value, certificates, loggers, fastPath ? FastPathListener.Use : _ => { });
            }
            else if (fastPath)
            {
                // Listeners from ASP.NET Core's Urls (plain HTTP) get the defaults when Kestrel binds them.
                kestrel.ConfigureEndpointDefaults(FastPathListener.Use);
            }
        });
        services.AddSingleton<IMemoryPoolFactory<byte>, TransportMemoryPoolFactory>();
        // The host's timeout covers the delay too (it runs inside the stop).
        services.AddOptions<HostOptions>().Configure<IOptions<GatewayOptions>>(
            (host, gateway) => host.ShutdownTimeout = gateway.Value.Forwarding.ShutdownDelay + gateway.Value.Forwarding.ShutdownDrainTimeout);
        services.AddSingleton<GatewayShutdown>();
        services.AddHostedService(sp => sp.GetRequiredService<GatewayShutdown>());

        services.AddMetrics();
        services.AddSingleton<GatewayMetrics>();
        services.AddHostedService<LiveCountGauges>();

        services.AddSingleton<WorkspacePathParser>();
        services.AddSingleton<WorkspaceHostParser>();
        services.AddSingleton<PortPreflight>();
        services.AddSingleton<IRouteStore, RedisRouteStore>();
        services.AddHostedService<RouteStoreWarmUp>();
        services.AddSingleton<RouteCache>();
        services.AddSingleton<IRouteResolver>(sp => sp.GetRequiredService<RouteCache>());
        services.AddSingleton<IRouteInvalidator>(sp => sp.GetRequiredService<RouteCache>());
        services.AddSingleton<RouteInvalidationListener>();
        services.AddHostedService(sp => sp.GetRequiredService<RouteInvalidationListener>());
        services.AddHealthChecks().AddCheck<RouteStoreReadiness>("routes", tags: PlatformEndpoints.Readiness);

        services.AddHostedService<ActivityRecorder>();

        services.AddSingleton<AccessTokens>();
        services.AddSingleton<WorkspaceAccessGate>();
        services.AddSingleton<TrustedProxies>();

        services.AddSingleton<ForwardingSettings>();
        services.AddSingleton<WorkspaceHttpClient>();
        services.AddSingleton<FastPathAdmission>();
        services.AddSingleton<FastPathMiddleware>();
        services.AddSingleton<WorkspaceTransformers>();
        services.AddSingleton<TunnelRelay>();
        services.AddSingleton<OpenTunnels>();
        services.AddSingleton<EventStreams>();
        services.AddSingleton<IRouteChangeObserver>(sp => sp.GetRequiredService<OpenTunnels>());
        services.AddReverseProxy();
        services.AddSingleton<IProxyConfigProvider, StaticRoutesConfigProvider>();
        services.AddSingleton<PlatformHosts>();
        return services;
    }

    private static void ConfigureHttp2(Http2Limits kestrel, Http2LimitsOptions limits)
    {
        kestrel.MaxStreamsPerConnection = limits.MaxStreamsPerConnection;
        kestrel.HeaderTableSize = limits.HeaderTableSize;
        kestrel.MaxFrameSize = limits.MaxFrameSize;
        kestrel.MaxRequestHeaderFieldSize = limits.MaxRequestHeaderFieldSize;
        kestrel.InitialConnectionWindowSize = limits.InitialConnectionWindowSize;
        kestrel.InitialStreamWindowSize = limits.InitialStreamWindowSize;
        kestrel.KeepAlivePingDelay = limits.KeepAlivePingDelay ?? Timeout.InfiniteTimeSpan;
        kestrel.KeepAlivePingTimeout = limits.KeepAlivePingTimeout;

        // Kestrel reads its rapid-reset threshold once, from AppContext, when the first HTTP/2 connection
        // arrives; it has no option of its own yet (dotnet/aspnetcore#51308).
        AppContext.SetData("Microsoft.AspNetCore.Server.Kestrel.Http2.MaxEnhanceYourCalmCount", limits.ResetFloodStreamsPerSecond);
    }
}
