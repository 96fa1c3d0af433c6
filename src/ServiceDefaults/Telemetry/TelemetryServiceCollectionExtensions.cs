using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ServiceDefaults.Telemetry;

public static partial class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Traces and metrics over OTLP when <paramref name="section"/>:<c>OtlpEndpoint</c> is set, through
    /// OpenTelemetry's hosting integration (providers started with the host, flushed and disposed with it):
    /// ASP.NET Core, HttpClient and runtime instrumentation, plus the program's own <paramref name="meters"/>
    /// and <paramref name="activitySources"/>, and the log records. Nothing at all is registered without an endpoint, so a program
    /// that does not export pays nothing per request.
    /// </summary>
    public static IServiceCollection AddTelemetryExport(
        this IServiceCollection services,
        IConfiguration configuration,
        string section,
        string serviceName,
        IEnumerable<string> meters,
        IEnumerable<string> activitySources)
    {
        var settings = configuration.GetSection(section).Get<TelemetryExportOptions>() ?? new TelemetryExportOptions();
        if (!settings.Enabled)
        {
            return services;
        }

        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(string.IsNullOrEmpty(settings.ServiceName) ? serviceName : settings.ServiceName))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter([.. meters])
                .AddOtlpExporter((exporter, reader) =>
                {
                    Configure(exporter, settings, "v1/metrics");
                    reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)settings.MetricsExportInterval.TotalMilliseconds;
                }));

        services.AddHostedService(sp => new TelemetryExportAnnouncement(settings, sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(TelemetryExportOptions).FullName!)));
        if (settings.Traces)
        {
            // Both instrumentations redact query strings by default: a first navigation carries a ticket there.
            telemetry.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddSource([.. activitySources])
                .AddOtlpExporter(exporter => Configure(exporter, settings, "v1/traces")));
        }

        if (settings.Logs)
        {
            // Structured: the message template's values stay fields, not only the formatted sentence.
            telemetry.WithLogging(
                logging => logging.AddOtlpExporter(exporter => Configure(exporter, settings, "v1/logs")),
                logging => logging.IncludeScopes = false);
        }

        return services;
    }

    // With http/protobuf an explicit endpoint is used as is, so the signal's path must be appended.
    private static void Configure(OtlpExporterOptions exporter, TelemetryExportOptions settings, string signalPath)
    {
        var baseAddress = settings.OtlpEndpoint!.TrimEnd('/');
        if (!string.IsNullOrEmpty(settings.Headers))
        {
            exporter.Headers = settings.Headers;
        }

        if (settings.OtlpProtocol == "Grpc")
        {
            exporter.Protocol = OtlpExportProtocol.Grpc;
            exporter.Endpoint = new Uri(baseAddress);
        }
        else
        {
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri($"{baseAddress}/{signalPath}");
        }
    }

    /// <summary>Says once, at start-up, where telemetry goes.</summary>
    private sealed partial class TelemetryExportAnnouncement(TelemetryExportOptions settings, ILogger logger) : Microsoft.Extensions.Hosting.IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogExporting(logger, settings.OtlpEndpoint!, settings.OtlpProtocol, settings.Traces, settings.Logs);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(Level = LogLevel.Information, Message = "Exporting telemetry to {Endpoint} over {Protocol} (traces: {Traces}, logs: {Logs})")]
        private static partial void LogExporting(ILogger logger, string endpoint, string protocol, bool traces, bool logs);
    }
}
