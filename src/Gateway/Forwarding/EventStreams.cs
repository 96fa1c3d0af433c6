using Gateway.Health;

namespace Gateway.Forwarding;

/// <summary>
/// Server-sent event streams open through the gateway (the platform page's and the start page's live
/// updates, a dev server's), ended when the gateway stops (after its shutdown delay). They never finish on their own, so
/// without this every open page held the shutdown for the whole drain time (and <c>./run.sh</c>, which waits
/// 15 s, killed the gateway). Ending one is aborting it: the browser's EventSource reconnects by itself,
/// to another replica behind a load balancer. A lock, not a lock-free set: streams are rare next to
/// requests, and the lock is what keeps a shutdown from aborting a context Kestrel already reuses.
/// </summary>
internal sealed partial class EventStreams
{
    private readonly HashSet<HttpContext> _open = [];
    private readonly Lock _lock = new();
    private readonly ILogger<EventStreams> _logger;
    private bool _stopping;

    public EventStreams(GatewayShutdown shutdown, ILogger<EventStreams> logger)
    {
        _logger = logger;

        // Before Kestrel stops and waits for requests in flight: these would be in flight until the drain ends.
        shutdown.Closing.Register(EndAll);
    }

    /// <summary>Event streams open now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _open.Count;
            }
        }
    }

    /// <summary>Whether the client asked for an event stream (EventSource sends exactly this Accept).</summary>
    public static bool IsEventStream(HttpRequest request) =>
        HttpMethods.IsGet(request.Method)
        && request.Headers.Accept is { Count: > 0 } accept
        && accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);

    /// <summary>Tracks <paramref name="context"/> while <paramref name="serve"/> runs.</summary>
    public async Task ServeAsync(HttpContext context, RequestDelegate serve)
    {
        lock (_lock)
        {
            if (_stopping)
            {
                context.Abort();
                return;
            }

            _open.Add(context);
        }

        try
        {
            await serve(context);
        }
        finally
        {
            lock (_lock)
            {
                _open.Remove(context);
            }
        }
    }

    private void EndAll()
    {
        lock (_lock)
        {
            _stopping = true;
            if (_open.Count > 0)
            {
                LogEnding(_open.Count);
            }

            foreach (var context in _open)
            {
                context.Abort();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shutting down: ending {Count} event stream(s) at once")]
    private partial void LogEnding(int count);
}
