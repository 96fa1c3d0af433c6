namespace Gateway.Forwarding;

/// <summary>
/// Wraps each request body in <see cref="FlushingRequestContent"/> on its way to the workspace. It sits in the
/// invoker rather than in the request transformer because YARP 2.2+ refuses a transformer that replaces its
/// outgoing <see cref="HttpContent"/> ("Replacing the YARP outgoing request HttpContent is not supported");
/// here the forwarder's own content is still the one consumed, so its body-copy accounting is unchanged.
/// </summary>
internal sealed class RequestBodyFlushingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Content is { } body)
        {
            request.Content = new FlushingRequestContent(body);
        }

        return base.SendAsync(request, cancellationToken);
    }
}
