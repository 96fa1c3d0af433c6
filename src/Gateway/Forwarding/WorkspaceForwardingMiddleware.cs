using Gateway.Auth;
using Gateway.Diagnostics;
using Gateway.Errors;
using Gateway.Routing;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// Serves <c>/ws/&lt;sid&gt;/...</c>: resolves the sid and forwards with <see cref="IHttpForwarder"/> directly,
/// ahead of endpoint routing, so a cached request costs one dictionary read and the forward itself.
/// </summary>
internal sealed partial class WorkspaceForwardingMiddleware
{
    private static readonly System.Buffers.SearchValues<char> ForbiddenInTarget = System.Buffers.SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f#");

    private readonly RequestDelegate _next;
    private readonly WorkspacePathParser _parser;
    private readonly IRouteResolver _resolver;
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _invoker;
    private readonly ForwardingSettings _settings;
    private readonly WorkspaceRequestTransformer _transformer;
    private readonly OpenTunnels _tunnels;
    private readonly WorkspaceAccessGate _access;
    private readonly ILogger<WorkspaceForwardingMiddleware> _logger;
    private readonly LogBudget _failureLogs;
    private readonly GatewayMetrics _metrics;

    public WorkspaceForwardingMiddleware(
        RequestDelegate next,
        WorkspacePathParser parser,
        IRouteResolver resolver,
        IHttpForwarder forwarder,
        WorkspaceHttpClient client,
        ForwardingSettings settings,
        WorkspaceRequestTransformer transformer,
        OpenTunnels tunnels,
        WorkspaceAccessGate access,
        TimeProvider time,
        GatewayMetrics metrics,
        ILogger<WorkspaceForwardingMiddleware> logger)
    {
        _next = next;
        _parser = parser;
        _resolver = resolver;
        _forwarder = forwarder;
        _invoker = client.Invoker;
        _settings = settings;
        _transformer = transformer;
        _tunnels = tunnels;
        _access = access;
        _logger = logger;
        _failureLogs = LogBudget.PerSecond(time);
        _metrics = metrics;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var parsed = _parser.Parse(path);
        switch (parsed.Kind)
        {
            case WorkspacePathKind.NotWorkspace:
                return _next(context);
            case WorkspacePathKind.InvalidSid:
                return GatewayProblemWriter.WriteAsync(context, GatewayProblem.InvalidSid);
            case WorkspacePathKind.InvalidPort:
                return GatewayProblemWriter.WriteAsync(context, GatewayProblem.InvalidPort);
            case WorkspacePathKind.MissingTrailingSlash:
                // The old proxy broke here; relative links in the editor need the slash.
                context.Response.StatusCode = StatusCodes.Status308PermanentRedirect;
                context.Response.Headers.Location = string.Concat(path, "/", context.Request.QueryString.Value);
                return Task.CompletedTask;
        }

        // Kestrel lets control characters and '#' through in the request target, and the target goes on
        // to the workspace byte for byte: a bare CR there would be a request-splitting primitive against
        // whatever parses it next (found by the hostile-input suite, issue #5).
        if (context.Features.Get<IHttpRequestFeature>()?.RawTarget is { } rawTarget && rawTarget.AsSpan().ContainsAny(ForbiddenInTarget))
        {
            return GatewayProblemWriter.WriteAsync(context, GatewayProblem.InvalidTarget);
        }

        // Access is decided before the route is looked up: a stranger learns nothing about which
        // workspaces exist and costs no Redis lookup.
        if (_access.Enabled)
        {
            var admission = _access.AdmitAsync(context, path, parsed.SidLength);
            if (!admission.IsCompletedSuccessfully)
            {
                return AdmitThenRouteAsync(admission, context, path, parsed.SidLength);
            }

            if (!admission.Result)
            {
                return Task.CompletedTask;
            }
        }

        return RouteAsync(context, path, parsed.SidLength);
    }

    private async Task AdmitThenRouteAsync(ValueTask<bool> admission, HttpContext context, string path, int sidLength)
    {
        if (await admission)
        {
            await RouteAsync(context, path, sidLength);
        }
    }

    private Task RouteAsync(HttpContext context, string path, int sidLength)
    {
        if (_resolver.TryGetCached(path.AsSpan(WorkspacePath.SidStart, sidLength), out var cached))
        {
            _metrics.CacheHit();
            return ForwardAsync(context, cached, sid: null);
        }

        _metrics.CacheMiss();
        return ResolveAndForwardAsync(context, path.Substring(WorkspacePath.SidStart, sidLength));
    }

    private async Task ResolveAndForwardAsync(HttpContext context, string sid)
    {
        RouteLookup lookup;
        try
        {
            lookup = await _resolver.ResolveAsync(sid, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return;
        }

        await ForwardAsync(context, lookup, sid);
    }

    private async Task ForwardAsync(HttpContext context, RouteLookup lookup, string? sid)
    {
        switch (lookup.Status)
        {
            case RouteLookupStatus.Found:
                break;
            case RouteLookupStatus.NotFound:
                await GatewayProblemWriter.WriteAsync(context, GatewayProblem.WorkspaceNotRunning, sid ?? SidOf(context));
                return;
            case RouteLookupStatus.Invalid:
                await GatewayProblemWriter.WriteAsync(context, GatewayProblem.RouteInvalid, sid ?? SidOf(context));
                return;
            default:
                await GatewayProblemWriter.WriteAsync(context, GatewayProblem.RouteStoreUnavailable, sid ?? SidOf(context), _settings.RetryAfterSeconds);
                return;
        }

        // Refused before a byte goes to the workspace; Kestrel alone would only fail the body mid-upload.
        if (context.Request.ContentLength is { } length
            && length > (context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? long.MaxValue))
        {
            await GatewayProblemWriter.WriteAsync(context, GatewayProblem.RequestTooLarge, lookup.Route!.Sid);
            return;
        }

        var route = lookup.Route!;
        route.MarkUsed();
        using var tunnel = context.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true }
            ? _tunnels.Open(route, context)
            : (OpenTunnels.Lease?)null;
        var error = await _forwarder.SendAsync(context, route.DestinationPrefix, _invoker, _settings.For(context), _transformer);

        if (error != ForwarderError.None)
        {
            await ReportForwardingErrorAsync(context, error, route);
        }
    }

    private Task ReportForwardingErrorAsync(HttpContext context, ForwarderError error, WorkspaceRoute route)
    {
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
            or ForwarderError.ResponseBodyCanceled or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseCanceled)
        {
            LogClientGone(route.Sid, error);
            return Task.CompletedTask;
        }

        if (_failureLogs.TryTake(out var suppressed))
        {
            var exception = context.Features.Get<IForwarderErrorFeature>()?.Exception;
            LogForwardingFailed(route.Sid, route.Address, error, exception?.Message, suppressed);
        }

        // The response is only ours to write if nothing from the workspace has been sent yet.
        return error switch
        {
            ForwarderError.RequestTimedOut => GatewayProblemWriter.WriteAsync(context, GatewayProblem.WorkspaceTimeout, route.Sid),
            ForwarderError.Request or ForwarderError.RequestCreation or ForwarderError.UpgradeRequestDestination
                => GatewayProblemWriter.WriteAsync(context, GatewayProblem.WorkspaceUnreachable, route.Sid),
            _ => Task.CompletedTask,
        };
    }

    private static string SidOf(HttpContext context)
    {
        var path = context.Request.Path.Value!;
        var end = path.IndexOf('/', WorkspacePath.SidStart);
        return path[WorkspacePath.SidStart..end];
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client left during forwarding to workspace {Sid}: {Error}")]
    private partial void LogClientGone(string sid, ForwarderError error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding to workspace {Sid} at {Address} failed: {Error} {Reason} ({Suppressed} similar lines suppressed before this one)")]
    private partial void LogForwardingFailed(string sid, string address, ForwarderError error, string? reason, long suppressed);
}
