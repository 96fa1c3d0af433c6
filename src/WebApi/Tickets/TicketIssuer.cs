using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using WebApi.Configuration;

namespace WebApi.Tickets;

/// <summary>
/// Mints the gateway's access tickets (README "Security", issue #5): an HS256 JWT with the shared key,
/// <c>aud</c> = the gateway's audience, <c>sid</c> = the workspace, <c>sub</c> = the user, a short <c>exp</c>.
/// The gateway turns it into its own session cookie on first use.
/// </summary>
internal sealed class TicketIssuer
{
    private readonly TicketOptions _options;
    private readonly SigningCredentials _signing;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new();

    public TicketIssuer(IOptions<WebApiOptions> options, TimeProvider time)
    {
        _options = options.Value.Tickets;
        _signing = new SigningCredentials(new SymmetricSecurityKey(Convert.FromBase64String(_options.SigningKey)), SecurityAlgorithms.HmacSha256);
        _time = time;
    }

    public string Issue(string sid, long userId)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Audience = _options.Audience,
            Issuer = "workspace-webapi",
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _options.Lifetime,
            SigningCredentials = _signing,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = userId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["sid"] = sid,
            },
        });
    }

    /// <summary>The address that opens the editor: <c>/ws/&lt;sid&gt;/?ticket=...</c> on the gateway.</summary>
    public string OpenUrl(string sid, long userId) =>
        $"{_options.GatewayUrl.TrimEnd('/')}/ws/{sid}/?ticket={Issue(sid, userId)}";
}
