using Microsoft.Extensions.Options;
using Operator.Api;
using Operator.Configuration;
using ServiceDefaults.Health;
using ServiceDefaults.Hosting;

namespace Operator;

/// <summary>Builds the operator's web application; shared by <c>Program</c> and the tests.</summary>
public static class OperatorApplication
{
    /// <summary>Environment variable naming the settings file; by default <c>operator.json</c> beside the binary.</summary>
    public const string ConfigFileVariable = "OPERATOR_CONFIG";

    /// <summary>How the operator names itself to Redis (CLIENT LIST) and in telemetry.</summary>
    public const string ServiceName = "workspace-operator";

    /// <summary>The operator among the three programs.</summary>
    public static readonly PlatformProgram Program = new("operator", ServiceName, OperatorOptions.SectionName, ConfigFileVariable, "operator.json");

    public static WebApplication Create(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });
        builder.AddPlatformDefaults(Program, args, sp => sp.GetRequiredService<IOptions<OperatorOptions>>().Value.Redis);

        builder.Services.AddOperator(builder.Configuration);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapPlatformEndpoints();
        app.MapOperatorApi();
        return app;
    }
}
