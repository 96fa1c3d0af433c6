namespace WebApi;

/// <summary>Builds the web API; shared by <c>Program</c> and the tests.</summary>
public static class WebApiApplication
{
    public const string ConfigFileVariable = "WEBAPI_CONFIG";

    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = Directory.GetCurrentDirectory(),
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        var configFile = builder.Configuration["ConfigFile"]
            ?? Environment.GetEnvironmentVariable(ConfigFileVariable)
            ?? Path.Combine(AppContext.BaseDirectory, "webapi.json");
        builder.Configuration.AddJsonFile(Path.GetFullPath(configFile), optional: false, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        builder.Services.AddWebApi(builder.Configuration);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // The page (wwwroot/): no framework, talks to the API below with the session cookie.
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapWebApi();
        return app;
    }
}
