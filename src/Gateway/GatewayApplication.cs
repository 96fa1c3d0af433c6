using Gateway.Configuration;
using Gateway.Errors;
using Gateway.Forwarding;
using Gateway.Routing;
using Gateway.Telemetry;
using Gateway.Tls;
using Microsoft.Extensions.Options;
using ServiceDefaults.Health;
using ServiceDefaults.Hosting;

namespace Gateway;

/// <summary>Builds the gateway's web application; shared by <c>Program</c> and the tests.</summary>
public static class GatewayApplication
{
    /// <summary>How the gateway names itself to Redis (CLIENT LIST) and, by default, in telemetry.</summary>
    public const string ServiceName = "workspace-gateway";

    /// <summary>
    /// The gateway among the three programs: <c>gateway.json</c> beside the binary unless <c>GATEWAY_CONFIG</c>
    /// names another, read again when it changes (routes, access keys and trusted proxies change without a
    /// restart); its own meter and YARP's activities exported.
    /// </summary>
    public static readonly PlatformProgram Program = new("gateway", ServiceName, GatewayOptions.SectionName, "GATEWAY_CONFIG", "gateway.json")
    {
        Meters = [GatewayMetrics.MeterName],
        ActivitySources = ["Yarp.ReverseProxy"],
        ReloadSettingsOnChange = true,
    };

    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });

        builder.AddPlatformDefaults(Program, args, sp => sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Redis);

        // Off whatever the configuration says. Its per-request lines print the query string, where a first
        // navigation carries a ticket, and tickets never appear in logs. And while any level of it is on,
        // ASP.NET Core starts an Activity and a log scope for every request and tunnel: ~5 µs of CPU per
        // request and ~400 bytes per open tunnel. Registered after the configuration's rules, so it wins.
        // Application errors are still logged, by Kestrel's own category.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", _ => false);

        // Requests and tunnels continue on the socket thread that read their bytes instead of queueing to
        // the thread pool. Nothing on the request path blocks (Redis calls are asynchronous, logs go to a
        // dropping queue), and it takes the pool out of the latency path: fixed-rate p99 4.8 ms instead of
        // ~100 ms on one core, WebSocket echo +13% (bench/results).
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        builder.Services.AddGateway(builder.Configuration);

        var app = builder.Build();

        // Workspace traffic is served before endpoint routing runs: it needs no route matching. Authorization
        // is placed after it explicitly: left to WebApplication (YARP registers its services) it would run
        // first, an awaited state machine on every workspace request with no endpoint to authorize.
        var endpoints = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Endpoints;
        if (endpoints.Http.Length > 0 && endpoints.Https.Length > 0 && endpoints.RedirectHttpToHttps)
        {
            app.UseHttpsRedirection();
        }

        if (app.Services.GetRequiredService<StrictTransportSecurity>().Value is not null)
        {
            app.UseMiddleware<StrictTransportSecurityMiddleware>();
        }

        if (app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Forwarding.FastPath)
        {
            app.UseMiddleware<FastPath.HandedOverFailureMiddleware>();
        }

        app.UseMiddleware<MessageFramingGuard>();
        app.UseMiddleware<EventStreamMiddleware>();
        app.UseMiddleware<WorkspaceForwardingMiddleware>();
        app.UseMiddleware<PlatformHostGuard>();
        app.UseRouting();
        app.UseAuthorization();
        app.MapPlatformEndpoints();
        app.MapReverseProxy();
        app.MapFallback(context => GatewayProblemWriter.WriteAsync(context, GatewayProblem.NoRoute));
        return app;
    }
}
