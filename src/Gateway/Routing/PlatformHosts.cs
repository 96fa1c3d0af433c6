using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

/// <summary>
/// The host names the platform's own pages are served on (<see cref="RoutesOptions.PlatformHosts"/>). Matched
/// here rather than by YARP's route hosts: endpoint routing reads <c>HttpRequest.Host</c>, which throws on a
/// malformed punycode label (a 500 for <c>Host: xn--zz</c>, found by the tests). A name without a port takes
/// any port; <c>*.</c> one or more labels.
/// </summary>
internal sealed class PlatformHosts
{
    private volatile string[]? _hosts;

    public PlatformHosts(IOptionsMonitor<GatewayOptions> options)
    {
        _hosts = Collect(options.CurrentValue);
        options.OnChange(o => _hosts = Collect(o));
    }

    /// <summary>
    /// Whether <paramref name="host"/>, the Host header as sent, is one the static routes answer; true when none
    /// is restricted. As sent: <c>HttpRequest.Host</c> decodes punycode and throws on a malformed <c>xn--</c> label.
    /// </summary>
    public bool Serves(string host)
    {
        if (_hosts is not { } hosts)
        {
            return true;
        }

        foreach (var pattern in hosts)
        {
            if (Matches(pattern, host))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Matches(string pattern, string host)
    {
        Split(pattern, out var patternName, out var patternPort);
        Split(host, out var name, out var port);
        if (patternPort.Length > 0 && !patternPort.SequenceEqual(port))
        {
            return false;
        }

        return patternName.StartsWith("*.", StringComparison.Ordinal)
            ? name.EndsWith(patternName[1..], StringComparison.OrdinalIgnoreCase)
            : name.Equals(patternName, StringComparison.OrdinalIgnoreCase);
    }

    // "name:port", "name", "[::1]:port": the name and the port (empty when none).
    private static void Split(string host, out ReadOnlySpan<char> name, out ReadOnlySpan<char> port)
    {
        var colon = host.LastIndexOf(':');
        var hasPort = colon > 0 && host.IndexOf(']', colon) < 0;
        name = hasPort ? host.AsSpan(0, colon) : host;
        port = hasPort ? host.AsSpan(colon + 1) : [];
    }

    private static string[]? Collect(GatewayOptions options) =>
        options.Routes.PlatformHosts.Length == 0 ? null : [.. options.Routes.PlatformHosts];
}
