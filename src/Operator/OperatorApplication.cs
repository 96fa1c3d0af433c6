using ServiceDefaults.Hosting;
using WorkspaceOperator.Api;
using WorkspaceOperator.Reconciliation;

namespace WorkspaceOperator;

/// <summary>Builds the operator's web application; shared by <c>Program</c> and the tests.</summary>
public static class OperatorApplication
{
    /// <summary>Environment variable naming the settings file; by default <c>operator.json</c> beside the binary.</summary>
    public const string ConfigFileVariable = "OPERATOR_CONFIG";

    /// <summary>How the operator names itself to Redis (CLIENT LIST) and in telemetry.</summary>
    public const string ServiceName = "workspace-operator";

    public static WebApplication Create(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = Directory.GetCurrentDirectory() });
        builder.UsePlatformConfiguration(args, ConfigFileVariable, "operator.json");

        builder.Services.AddOperator(builder.Configuration);
        configureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapGet("/healthz", () => TypedResults.Text("ok"));

        // Ready once the workspace list has been read: before that the API would answer 404 for everything.
        app.MapGet("/readyz", (WorkspaceInformer informer) => informer.Synced.IsCompletedSuccessfully
            ? Results.Text("ready")
            : Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "NotSynced", detail: "the workspace list has not been read yet"));
        app.MapWorkspaceApi();
        return app;
    }
}
