using Contracts.Sharing;
using Gateway.Auth;
using Gateway.Cors;
using Gateway.Diagnostics;
using Gateway.Errors;
using Gateway.Routing;
using Gateway.Telemetry;
using Gateway.Workbench;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// Serves workspaces, addressed by path (<c>/ws/&lt;sid&gt;/...</c>) or by host name (<c>&lt;sid&gt;.&lt;domain&gt;</c>,
/// <c>&lt;port&gt;--&lt;sid&gt;.&lt;domain&gt;</c>): resolves the sid and forwards with <see cref="IHttpForwarder"/>
/// directly, ahead of endpoint routing, so a cached request costs one dictionary read and the forward itself.
/// </summary>
internal sealed partial class WorkspaceForwardingMiddleware
{
    private static readonly System.Buffers.SearchValues<char> ForbiddenInTarget = System.Buffers.SearchValues.Create(
        "\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f#");

    private readonly RequestDelegate _next;
    private readonly WorkspacePathParser _parser;
    private readonly WorkspaceHostParser _hosts;
    private readonly PortPreflight _preflight;
    private readonly IRouteResolver _resolver;
    private readonly IHttpForwarder _forwarder;
    private readonly HttpMessageInvoker _invoker;
    private readonly ForwardingSettings _settings;
    private readonly WorkspaceTransformers _transformers;
    private readonly OpenTunnels _tunnels;
    private readonly WorkspaceAccessGate _access;
    private readonly ILogger<WorkspaceForwardingMiddleware> _logger;
    private readonly LogBudget _failureLogs;
    private readonly GatewayMetrics _metrics;

    public WorkspaceForwardingMiddleware(
        RequestDelegate next,
        WorkspacePathParser parser,
        WorkspaceHostParser hosts,
        PortPreflight preflight,
        IRouteResolver resolver,
        IHttpForwarder forwarder,
        WorkspaceHttpClient client,
        ForwardingSettings settings,
        WorkspaceTransformers transformers,
        OpenTunnels tunnels,
        WorkspaceAccessGate access,
        TimeProvider time,
        GatewayMetrics metrics,
        ILogger<WorkspaceForwardingMiddleware> logger)
    {
        _next = next;
        _parser = parser;
        _hosts = hosts;
        _preflight = preflight;
        _resolver = resolver;
        _forwarder = forwarder;
        _invoker = client.Invoker;
        _settings = settings;
        _transformers = transformers;
        _tunnels = tunnels;
        _access = access;
        _logger = logger;
        _failureLogs = LogBudget.PerSecond(time);
        _metrics = metrics;
    }

    public Task InvokeAsync(HttpContext context)
    {
        if (_hosts.Enabled)
        {
            // The header as sent, not HttpRequest.Host: that decodes punycode (and throws on a malformed "xn--"
            // label), which would make two spellings of one name.
            var host = context.Request.Headers.Host.ToString();
            var origin = _hosts.Parse(host);
            if (origin.Kind != WorkspaceHostKind.NotWorkspaceHost)
            {
                return ServeOwnOriginAsync(context, host, origin);
            }
        }

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

        return AdmitAndRouteAsync(context, new Target(path, WorkspacePath.SidStart, parsed.SidLength, OwnOrigin: false, Port: 0));
    }

    private Task ServeOwnOriginAsync(HttpContext context, string host, WorkspaceHost origin)
    {
        if (origin.Kind == WorkspaceHostKind.Invalid)
        {
            return GatewayProblemWriter.WriteAsync(context, GatewayProblem.InvalidHost);
        }

        // The whole path is the workspace's: /ws/<other>/ here is a path inside this workspace, never a way
        // to another one.
        return AdmitAndRouteAsync(context, new Target(host, origin.SidStart, origin.SidLength, OwnOrigin: true, origin.Port));
    }

    private Task AdmitAndRouteAsync(HttpContext context, Target target)
    {
        // Kestrel lets control characters and '#' through in the request target, and the target goes on
        // to the workspace byte for byte: a bare CR there would be a request-splitting primitive against
        // whatever parses it next (found by the hostile-input suite).
        if (context.Features.Get<IHttpRequestFeature>()?.RawTarget is { } rawTarget && rawTarget.AsSpan().ContainsAny(ForbiddenInTarget))
        {
            return GatewayProblemWriter.WriteAsync(context, GatewayProblem.InvalidTarget);
        }

        if (target.Port != 0)
        {
            var preflight = PortPreflight.IsPreflight(context.Request);
            if (preflight || (_access.Enabled && !_access.TryAdmitFast(context, target.Sid, ownOrigin: true, target.Port, PortSharing.Private, out _)))
            {
                return ServeSharedPortAsync(context, target, preflight);
            }

            return RouteAsync(context, target, Admission.Owner);
        }

        // Access to the editor is decided before the route is looked up: a stranger learns nothing about
        // which workspaces exist and costs no Redis lookup.
        if (_access.Enabled)
        {
            var admission = _access.AdmitAsync(context, target.Sid, target.OwnOrigin);
            if (!admission.IsCompletedSuccessfully)
            {
                return AdmitThenRouteAsync(admission, context, target);
            }

            if (admission.Result == Admission.Refused)
            {
                return Task.CompletedTask;
            }
        }

        return RouteAsync(context, target, Admission.Owner);
    }

    private async Task AdmitThenRouteAsync(ValueTask<Admission> admission, HttpContext context, Target target)
    {
        var admitted = await admission;
        if (admitted != Admission.Refused)
        {
            await RouteAsync(context, target, admitted);
        }
    }

    /// <summary>
    /// A dev-server port without its owner's session (or a CORS preflight, which never carries one): what it
    /// may open depends on the port's sharing level, which comes with the route. A private port still answers
    /// a stranger exactly as a workspace that does not exist would.
    /// </summary>
    private async Task ServeSharedPortAsync(HttpContext context, Target target, bool preflight)
    {
        if (await LookUpAsync(context, target) is not { } lookup)
        {
            return;
        }

        var sharing = lookup.Shares.For(target.Port);
        if (preflight)
        {
            // A public app answers its own preflights; for any other the gateway does (PortPreflight).
            if (sharing == PortSharing.Public)
            {
                await ForwardAsync(context, lookup, target, Admission.Public);
            }
            else
            {
                _preflight.Answer(context, target.Sid);
            }

            return;
        }

        var admission = _access.Enabled
            ? await _access.AdmitAsync(context, target.Sid, ownOrigin: true, target.Port, sharing)
            : Admission.Owner;
        if (admission != Admission.Refused)
        {
            await ForwardAsync(context, lookup, target, admission);
        }
    }

    private Task RouteAsync(HttpContext context, Target target, Admission admission)
    {
        if (target.Port == 0 && WorkbenchNotice.IsScript(target.EditorPath(context)))
        {
            return WorkbenchNotice.ServeScriptAsync(context);
        }

        var lookup = LookUpAsync(context, target);
        if (lookup.IsCompletedSuccessfully)
        {
            return lookup.Result is { } found ? ForwardAsync(context, found, target, admission) : Task.CompletedTask;
        }

        return LookUpThenForwardAsync(lookup, context, target, admission);
    }

    private async Task LookUpThenForwardAsync(ValueTask<RouteLookup?> lookup, HttpContext context, Target target, Admission admission)
    {
        if (await lookup is { } found)
        {
            await ForwardAsync(context, found, target, admission);
        }
    }

    /// <summary>
    /// The target's route: a cached answer at once (no allocation), otherwise the one lookup shared by every
    /// waiter for that sid; null when the client left while waiting.
    /// </summary>
    private ValueTask<RouteLookup?> LookUpAsync(HttpContext context, Target target)
    {
        if (_resolver.TryGetCached(target.Sid, out var cached))
        {
            _metrics.CacheHit();
            return new ValueTask<RouteLookup?>(cached);
        }

        _metrics.CacheMiss();
        return ResolveAsync(context, target.Sid.ToString());
    }

    private async ValueTask<RouteLookup?> ResolveAsync(HttpContext context, string sid)
    {
        try
        {
            return await _resolver.ResolveAsync(sid, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            return null;
        }
    }

    private async Task ForwardAsync(HttpContext context, RouteLookup lookup, Target target, Admission admission)
    {
        // Only on the way to an answer without a route: a cached hit never builds the string.
        var sid = lookup.Route?.Sid ?? target.Sid.ToString();
        switch (lookup.Status)
        {
            case RouteLookupStatus.Found:
                break;
            case RouteLookupStatus.NotFound:
                if (admission == Admission.Owner && _access.TrySendToPlatform(context, target.OwnOrigin))
                {
                    LogSentToPlatform(sid);
                    return;
                }

                await GatewayProblemWriter.WriteAsync(context, GatewayProblem.WorkspaceNotRunning, sid);
                return;
            case RouteLookupStatus.Invalid:
                await GatewayProblemWriter.WriteAsync(context, GatewayProblem.RouteInvalid, sid);
                return;
            default:
                await GatewayProblemWriter.WriteAsync(context, GatewayProblem.RouteStoreUnavailable, sid, _settings.RetryAfterSeconds);
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
        var isTunnel = ForwardingSettings.IsTunnel(context);
        using var tunnel = isTunnel ? _tunnels.TryOpen(route, context, target.Port, admission) : null;
        if (isTunnel && tunnel is null)
        {
            await GatewayProblemWriter.WriteAsync(context, GatewayProblem.ShuttingDown, route.Sid, _settings.RetryAfterSeconds);
            return;
        }

        var destination = target.Port == 0 ? route.DestinationPrefix : route.DestinationPrefixForPort(target.Port);
        HttpTransformer transformer = target.OwnOrigin ? _transformers.OnOwnOrigin : _transformers.ByPath;
        if (target.Port == 0 && WorkbenchNotice.IsDocument(context.Request, target.EditorPath(context)))
        {
            transformer = target.OwnOrigin ? _transformers.WorkbenchOnOwnOrigin : _transformers.WorkbenchByPath;
        }

        var error = await _forwarder.SendAsync(context, destination, _invoker, _settings.For(context), transformer);

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

    /// <summary>Where the sid is (in the path or in the Host), and how the workspace is addressed.</summary>
    private readonly record struct Target(string Source, int SidStart, int SidLength, bool OwnOrigin, int Port)
    {
        public ReadOnlySpan<char> Sid => Source.AsSpan(SidStart, SidLength);

        /// <summary>The path as the workspace sees it: all of it on its own origin, after <c>/ws/&lt;sid&gt;</c> otherwise.</summary>
        public ReadOnlySpan<char> EditorPath(HttpContext context) =>
            OwnOrigin ? context.Request.Path.Value : Source.AsSpan(SidStart + SidLength);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid} is not running: its owner was sent to the platform's page to start it")]
    private partial void LogSentToPlatform(string sid);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Client left during forwarding to workspace {Sid}: {Error}")]
    private partial void LogClientGone(string sid, ForwarderError error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Forwarding to workspace {Sid} at {Address} failed: {Error} {Reason} ({Suppressed} similar lines suppressed before this one)")]
    private partial void LogForwardingFailed(string sid, string address, ForwarderError error, string? reason, long suppressed);
}
