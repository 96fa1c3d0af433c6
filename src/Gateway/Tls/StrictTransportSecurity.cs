using System.Globalization;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Tls;

/// <summary>
/// The gateway's Strict-Transport-Security header (RFC 6797), and only the gateway's: a workspace on the
/// platform's origin could otherwise send <c>max-age=0</c> and lift HSTS for every user of the platform, or pin
/// a long <c>includeSubDomains</c> the operator never chose. So a workspace's own header is always dropped.
/// </summary>
internal sealed class StrictTransportSecurity(IOptions<GatewayOptions> options)
{
    /// <summary>The header value, or null when HSTS is off.</summary>
    public string? Value { get; } = Format(options.Value.Tls.Hsts);

    /// <summary>
    /// Puts ours on a response to an HTTPS request (never over plain HTTP, RFC 6797 §7.2), and removes any other.
    /// </summary>
    public void Apply(HttpContext context)
    {
        var headers = context.Response.Headers;
        if (Value is not null && context.Request.IsHttps)
        {
            headers.StrictTransportSecurity = Value;
        }
        else if (headers.StrictTransportSecurity.Count > 0)
        {
            headers.Remove(Microsoft.Net.Http.Headers.HeaderNames.StrictTransportSecurity);
        }
    }

    private static string? Format(HstsOptions hsts)
    {
        if (hsts.MaxAge <= TimeSpan.Zero)
        {
            return null;
        }

        return string.Concat(
            "max-age=", ((long)hsts.MaxAge.TotalSeconds).ToString(CultureInfo.InvariantCulture),
            hsts.IncludeSubDomains ? "; includeSubDomains" : "",
            hsts.Preload ? "; preload" : "");
    }
}
