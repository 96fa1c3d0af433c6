using System.Diagnostics;
using System.Text;
using Contracts.Sharing;
using Gateway.Auth;
using Gateway.Routing;
using Gateway.Telemetry;
using Gateway.Workbench;

namespace Gateway.FastPath;

/// <summary>Where a request the fast path takes goes, and what the workspace is told about it.</summary>
internal readonly record struct FastPathTarget(WorkspaceRoute Route, int PrefixLength);

/// <summary>
/// Which requests the fast path takes: exactly those the YARP way would forward at once, unchanged, with nothing
/// of the gateway's own to do. The editor of a workspace whose route is cached as running, addressed by
/// <c>/ws/&lt;sid&gt;/</c> (not code-server's <c>/proxy/</c> or <c>/absproxy/</c> ports) or on its own origin
/// (not a port's, where sharing levels and CORS apply), opened by a session cookie already checked once whose
/// renewal is not due, or by anyone when access checks are off. Everything with a step of its own stays with
/// Kestrel and YARP: a ticket in the query, an <c>Authorization</c> field, the workbench page (the gateway adds
/// its script) and the script itself, event streams (closed at shutdown), a route to look up, and requests
/// while ASP.NET Core's request spans are exported (each request keeps its trace).
/// </summary>
internal sealed class FastPathAdmission(
    WorkspacePathParser paths,
    WorkspaceHostParser hosts,
    IRouteResolver routes,
    AccessTokens tokens,
    WorkspaceAccessGate gate,
    GatewayMetrics metrics)
{
    // Listeners subscribe to sources by name: one named as ASP.NET Core's hosting source has a listener exactly
    // when request spans are being recorded.
    private static readonly ActivitySource RequestSpans = new("Microsoft.AspNetCore");

    private const int MaxSidBytes = 253;

    // The longest DNS name (RFC 1035 §2.3.4); a longer Host names no workspace origin.
    private const int MaxHostBytes = 253;

    /// <summary>
    /// The workspace <paramref name="head"/> goes to when the fast path takes it; false leaves the request to
    /// Kestrel and YARP. <paramref name="https"/>: the client's connection is TLS (the session cookie's name on
    /// a workspace's own origin depends on it).
    /// </summary>
    public bool TryAdmit(ReadOnlySpan<byte> request, in Http1RequestHead head, bool https, out FastPathTarget target)
    {
        target = default;
        if (RequestSpans.HasListeners())
        {
            return false;
        }

        var requestTarget = request[head.Target];
        var query = requestTarget.IndexOf((byte)'?');
        var path = query < 0 ? requestTarget : requestTarget[..query];
        var auth = tokens.Options;
        if (query >= 0 && Http1Syntax.Contains(requestTarget[query..], auth.TicketParameter))
        {
            return false;
        }

        var hostBytes = request[head.Host];
        if (hostBytes.Length > MaxHostBytes)
        {
            return false;
        }

        // The Host as characters only where host names route at all.
        Span<char> host = hosts.Enabled ? stackalloc char[hostBytes.Length] : default;
        Encoding.ASCII.GetChars(hosts.Enabled ? hostBytes : default, host);
        Span<char> sidBuffer = stackalloc char[MaxSidBytes];
        scoped Span<char> sid;
        int prefixLength;
        var ownOrigin = false;
        var origin = hosts.Enabled ? hosts.Parse(host) : default;
        if (hosts.Enabled && origin.Kind != WorkspaceHostKind.NotWorkspaceHost)
        {
            // A port's origin has sharing levels and CORS of its own; an invalid name gets its answer there too.
            if (origin.Kind != WorkspaceHostKind.Editor)
            {
                return false;
            }

            sid = sidBuffer[..origin.SidLength];
            host.Slice(origin.SidStart, origin.SidLength).CopyTo(sid);
            prefixLength = 0;
            ownOrigin = true;
        }
        else
        {
            if (!path.StartsWith("/ws/"u8))
            {
                return false;
            }

            var slash = path[WorkspacePath.SidStart..].IndexOf((byte)'/');
            if (slash is <= 0 or > MaxSidBytes)
            {
                return false;
            }

            sid = sidBuffer[..slash];
            Encoding.ASCII.GetChars(path.Slice(WorkspacePath.SidStart, slash), sid);
            prefixLength = WorkspacePath.SidStart + slash;
            var rest = path[prefixLength..];
            if (!paths.IsValidSid(sid) || StartsWithIgnoreCase(rest, "/proxy/"u8) || StartsWithIgnoreCase(rest, "/absproxy/"u8))
            {
                return false;
            }
        }

        // The path as the workspace sees it: all of it on its own origin, after /ws/<sid> otherwise.
        return TryAdmitEditor(request, head, path[prefixLength..], sid, ownOrigin, https, prefixLength, out target);
    }

    private bool TryAdmitEditor(
        ReadOnlySpan<byte> request, in Http1RequestHead head, ReadOnlySpan<byte> editorPath, ReadOnlySpan<char> sid, bool ownOrigin, bool https, int prefixLength, out FastPathTarget target)
    {
        target = default;
        if (Ascii.Equals(editorPath, WorkbenchNotice.ScriptPath))
        {
            return false;
        }

        var cookieName = tokens.CookieName(ownOrigin && https);
        for (var i = 0; i < head.FieldCount; i++)
        {
            var field = head.Fields[i];
            var name = request[field.Name];
            var value = request[field.Value];
            if (Ascii.EqualsIgnoreCase(name, "accept"u8))
            {
                // The workbench page gets the gateway's script; an event stream is closed by the gateway at shutdown.
                if ((editorPath.SequenceEqual("/"u8) && !head.IsHead && Contains(value, "text/html"u8)) || Contains(value, "text/event-stream"u8))
                {
                    return false;
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "authorization"u8))
            {
                return false;
            }
        }

        if (!routes.TryGetCached(sid, out var lookup) || lookup.Status != RouteLookupStatus.Found || lookup.Route is not { } route)
        {
            return false;
        }

        if (tokens.Enabled && !HasRememberedSession(request, head, sid, cookieName))
        {
            return false;
        }

        metrics.CacheHit();
        target = new FastPathTarget(route, prefixLength);
        return true;
    }

    // As the gate's fast admission: the first Cookie field that names ours decides; a session checked before, for
    // this workspace's editor, and not due for renewal (the YARP way answers with the fresh cookie).
    private bool HasRememberedSession(ReadOnlySpan<byte> request, in Http1RequestHead head, ReadOnlySpan<char> sid, string cookieName)
    {
        Span<char> small = stackalloc char[1024];
        for (var i = 0; i < head.FieldCount; i++)
        {
            var field = head.Fields[i];
            if (!Ascii.EqualsIgnoreCase(request[field.Name], "cookie"u8))
            {
                continue;
            }

            var value = request[field.Value];
            var rented = value.Length > small.Length ? System.Buffers.ArrayPool<char>.Shared.Rent(value.Length) : null;
            try
            {
                var chars = rented ?? small;
                chars = chars[..Encoding.ASCII.GetChars(value, chars)];
                if (SessionCookie.TryFind(chars, cookieName, out var token))
                {
                    return tokens.TryGetRemembered(TokenKind.Session, token, out var session)
                        && session.Opens(sid, 0, PortSharing.Private)
                        && !gate.IsRenewalDue(session);
                }
            }
            finally
            {
                if (rented is not null)
                {
                    System.Buffers.ArrayPool<char>.Shared.Return(rented);
                }
            }
        }

        return false;
    }

    private static bool Contains(ReadOnlySpan<byte> value, ReadOnlySpan<byte> text) =>
        value.Length >= text.Length && IndexOfIgnoreCase(value, text) >= 0;

    private static int IndexOfIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> text)
    {
        for (var i = 0; i + text.Length <= value.Length; i++)
        {
            if (Ascii.EqualsIgnoreCase(value.Slice(i, text.Length), text))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> value, ReadOnlySpan<byte> prefix) =>
        value.Length >= prefix.Length && Ascii.EqualsIgnoreCase(value[..prefix.Length], prefix);
}
