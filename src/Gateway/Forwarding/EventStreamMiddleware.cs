namespace Gateway.Forwarding;

/// <summary>Puts every event stream, a workspace's or the platform's, under <see cref="EventStreams"/>.</summary>
internal sealed class EventStreamMiddleware(RequestDelegate next, EventStreams streams)
{
    public Task InvokeAsync(HttpContext context) =>
        EventStreams.IsEventStream(context.Request) ? streams.ServeAsync(context, next) : next(context);
}
