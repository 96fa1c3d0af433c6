using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using ServiceDefaults.Hosting;
using WebApi.Configuration;
using WebApi.Mail;

namespace WebApi;

/// <summary>Builds the web API; shared by <c>Program</c> and the tests.</summary>
public static class WebApiApplication
{
    /// <summary>How the web API names itself to Redis (CLIENT LIST) and in telemetry.</summary>
    public const string ServiceName = "workspace-webapi";

    /// <summary>The web API among the three programs: <c>webapi.json</c> unless <c>WEBAPI_CONFIG</c> names another.</summary>
    public static readonly PlatformProgram Program = new("web API", ServiceName, WebApiOptions.SectionName, "WEBAPI_CONFIG", "webapi.json")
    {
        Meters = [MailDelivery.MeterName],
    };

    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = Directory.GetCurrentDirectory(),
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        builder.AddPlatformDefaults(Program, args, sp => sp.GetRequiredService<IOptions<WebApiOptions>>().Value.Redis);
        builder.Services.AddWebApi(builder.Configuration);

        var app = builder.Build();
        UseForwardedHeadersOfTrustedProxies(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages(BrowserNotFound.WriteAsync);

        // The page (wwwroot/): no framework, talks to the API below with the session cookie.
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.MapWebApi();
        return app;
    }

    private static void UseForwardedHeadersOfTrustedProxies(WebApplication app)
    {
        var proxies = app.Services.GetRequiredService<IOptions<WebApiOptions>>().Value.TrustedProxies;
        if (proxies.Length == 0)
        {
            return;
        }

        // Only the proxies named: the defaults would also believe any loopback caller.
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto, ForwardLimit = 1 };
        forwarded.KnownIPNetworks.Clear();
        forwarded.KnownProxies.Clear();
        foreach (var proxy in proxies)
        {
            // An address, or a network: in Kubernetes the gateways' addresses are the pod network's.
            if (IPAddress.TryParse(proxy, out var address))
            {
                forwarded.KnownProxies.Add(address);
            }
            else
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(proxy));
            }
        }

        app.UseForwardedHeaders(forwarded);
    }
}
