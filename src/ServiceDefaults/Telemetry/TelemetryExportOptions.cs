namespace ServiceDefaults.Telemetry;

/// <summary>
/// OpenTelemetry export over OTLP, bound from a program's <c>&lt;Program&gt;:Telemetry</c> section; off unless
/// an endpoint is set. Read at start-up.
/// </summary>
public class TelemetryExportOptions
{
    /// <summary>Collector address, e.g. <c>http://otel-collector:4318</c>; null or empty: no export.</summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>HttpProtobuf</c> (port 4318) or <c>Grpc</c> (port 4317).</summary>
    public string OtlpProtocol { get; set; } = "HttpProtobuf";

    /// <summary>
    /// Headers sent with every export, as <c>OTEL_EXPORTER_OTLP_HEADERS</c> spells them (<c>name=value,name=value</c>):
    /// a collector's API key (the Aspire dashboard's <c>x-otlp-api-key</c>). Give it through the environment
    /// (<c>&lt;Program&gt;__Telemetry__Headers</c>), not the command line, which every local user can read.
    /// </summary>
    public string? Headers { get; set; }

    /// <summary><c>service.name</c> of the exported resource; empty: the program's own name.</summary>
    public string? ServiceName { get; set; }

    public TimeSpan MetricsExportInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Export request traces too (a span per request), not only metrics.</summary>
    public bool Traces { get; set; } = true;

    /// <summary>
    /// Export the log records too (those the logging configuration lets through), each with the trace it was
    /// written in, so a collector shows a request's warnings beside its spans.
    /// </summary>
    public bool Logs { get; set; } = true;

    public bool Enabled => !string.IsNullOrEmpty(OtlpEndpoint);

    /// <summary>Adds a sentence naming <paramref name="section"/>'s key for each setting that cannot work.</summary>
    public void Validate(string section, ICollection<string> failures)
    {
        if (!string.IsNullOrEmpty(OtlpEndpoint)
            && (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out var otlp) || (otlp.Scheme != Uri.UriSchemeHttp && otlp.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"{section}:OtlpEndpoint must be an absolute http:// or https:// address, or empty for no export.");
        }

        if (!string.IsNullOrEmpty(Headers) && Headers.Split(',').Any(header => header.IndexOf('=', StringComparison.Ordinal) < 1))
        {
            failures.Add($"{section}:Headers must be name=value pairs separated by commas.");
        }

        if (OtlpProtocol is not ("HttpProtobuf" or "Grpc"))
        {
            failures.Add($"{section}:OtlpProtocol must be HttpProtobuf or Grpc.");
        }

        if (MetricsExportInterval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"{section}:MetricsExportInterval must be at least 00:00:00.100.");
        }
    }
}
