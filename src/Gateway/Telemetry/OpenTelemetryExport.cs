using Gateway.Configuration;
using Gateway.Forwarding;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Telemetry;

/// <summary>
/// Traces and metrics over OTLP when <c>Gateway:Telemetry:OtlpEndpoint</c> is set. Built with the SDK's
/// own builders because OpenTelemetry.Extensions.Hosting is not in this registry (../shared/PACKAGES.md);
/// the providers are flushed and disposed when the gateway stops.
/// </summary>
internal sealed partial class OpenTelemetryExport(
    IOptions<GatewayOptions> options,
    GatewayMetrics metrics,
    OpenTunnels tunnels,
    WorkspaceHttpClient workspaces,
    ILogger<OpenTelemetryExport> logger) : IHostedService, IDisposable
{
    private TracerProvider? _traces;
    private MeterProvider? _metrics;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Telemetry;
        metrics.Observe(
            () => tunnels.Count,
            () => workspaces.OpenConnections,
            settings.TunnelsPerSid ? () => tunnels.CountsBySid(settings.MaxSidSeries) : null);

        if (string.IsNullOrEmpty(settings.OtlpEndpoint))
        {
            return Task.CompletedTask;
        }

        var resource = ResourceBuilder.CreateDefault().AddService(settings.ServiceName);
        _metrics = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(GatewayMetrics.MeterName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http")
            .AddOtlpExporter((exporter, reader) =>
            {
                Configure(exporter, settings, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)settings.MetricsExportInterval.TotalMilliseconds;
            })
            .Build();

        if (settings.Traces)
        {
            _traces = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource("Microsoft.AspNetCore", "Yarp.ReverseProxy", "System.Net.Http")
                .AddOtlpExporter(exporter => Configure(exporter, settings, "v1/traces"))
                .Build();
        }

        LogExporting(settings.OtlpEndpoint, settings.OtlpProtocol, settings.Traces);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        // Last measurements and spans go out before the process ends.
        _metrics?.ForceFlush(2000);
        _traces?.ForceFlush(2000);
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _traces?.Dispose();
        _metrics?.Dispose();
    }

    // With http/protobuf an explicit endpoint is used as is, so the signal's path must be appended.
    private static void Configure(OtlpExporterOptions exporter, TelemetryOptions settings, string signalPath)
    {
        var baseAddress = settings.OtlpEndpoint!.TrimEnd('/');
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Exporting telemetry to {Endpoint} over {Protocol} (traces: {Traces})")]
    private partial void LogExporting(string endpoint, string protocol, bool traces);
}
