using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Tests.Common;

/// <summary>Accepts OTLP/HTTP exports; protobuf keeps metric names and attribute values as plain UTF-8.</summary>
public sealed class OtlpCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _metrics = new();
    private readonly ConcurrentQueue<string> _traces = new();
    private readonly ConcurrentQueue<string> _logs = new();
    private int _traceExports;

    private OtlpCollector(WebApplication app) => _app = app;

    public int Port { get; private set; }

    public string Metrics => string.Concat(_metrics);

    public int TraceExports => Volatile.Read(ref _traceExports);

    public string Traces => string.Concat(_traces);

    /// <summary>The <c>x-otlp-api-key</c> header of every export that carried one (the Aspire dashboard's key).</summary>
    public ConcurrentQueue<string> ApiKeys { get; } = new();

    /// <summary>Every log export received so far, as text (protobuf's strings are readable in it).</summary>
    public string Logs => string.Concat(_logs);

    public static async Task<OtlpCollector> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var collector = new OtlpCollector(app);
        app.Use((context, next) =>
        {
            if (context.Request.Headers["x-otlp-api-key"].ToString() is { Length: > 0 } key)
            {
                collector.ApiKeys.Enqueue(key);
            }

            return next(context);
        });
        app.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            collector._metrics.Enqueue(Encoding.UTF8.GetString(body.ToArray()));
            return Results.Ok();
        });
        app.MapPost("/v1/traces", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            if (body.Length > 0)
            {
                collector._traces.Enqueue(Encoding.UTF8.GetString(body.ToArray()));
                Interlocked.Increment(ref collector._traceExports);
            }

            return Results.Ok();
        });
        app.MapPost("/v1/logs", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            collector._logs.Enqueue(Encoding.UTF8.GetString(body.ToArray()));
            return Results.Ok();
        });
        await app.StartAsync();
        collector.Port = new Uri(app.Urls.First()).Port;
        return collector;
    }

    /// <summary>Waits until every name in <paramref name="expected"/> appeared in an export of metrics (or traces).</summary>
    public async Task AssertReceivedAsync(IReadOnlyCollection<string> expected, bool inTraces = false, TimeSpan? within = null)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var received = inTraces ? Traces : Metrics;
            var missing = expected.Where(name => !received.Contains(name, StringComparison.Ordinal)).ToList();
            if (missing.Count == 0)
            {
                return;
            }

            Assert.True(clock.Elapsed < (within ?? TimeSpan.FromSeconds(15)), $"not in the exported {(inTraces ? "traces" : "metrics")} after {(within ?? TimeSpan.FromSeconds(15)).TotalSeconds} s: {string.Join(", ", missing)}");
            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
