using System.Collections.Frozen;
using System.Net.Security;
using System.Security.Authentication;
using Gateway.Configuration;

namespace Gateway.Tls;

/// <summary>
/// The certificates served at one moment, each with the handshake options built once (chain resolved, OCSP
/// stapling started by .NET where the certificate names a responder), chosen per connection by the name the
/// client asked for (SNI). Immutable: a rotation builds a new set and swaps it in.
/// </summary>
internal sealed class ServerCertificateSet
{
    private static readonly List<SslApplicationProtocol> Protocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    private readonly FrozenDictionary<string, SslServerAuthenticationOptions> _exact;

    // "*.ws.example.com" is stored under "ws.example.com": it covers exactly one label more (RFC 6125 §6.4.3).
    private readonly FrozenDictionary<string, SslServerAuthenticationOptions>.AlternateLookup<ReadOnlySpan<char>> _wildcards;
    private readonly SslServerAuthenticationOptions _default;

    public ServerCertificateSet(IReadOnlyList<LoadedCertificate> certificates, TlsMinimumVersion minimum)
    {
        Certificates = certificates;
        var exact = new Dictionary<string, SslServerAuthenticationOptions>(StringComparer.OrdinalIgnoreCase);
        var wildcards = new Dictionary<string, SslServerAuthenticationOptions>(StringComparer.OrdinalIgnoreCase);
        SslServerAuthenticationOptions? first = null;
        foreach (var certificate in certificates)
        {
            var options = new SslServerAuthenticationOptions
            {
                ServerCertificateContext = SslStreamCertificateContext.Create(certificate.Leaf, certificate.Intermediates, offline: false),
                EnabledSslProtocols = minimum == TlsMinimumVersion.Tls13 ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13,

                // No CipherSuitesPolicy: with one, .NET builds a new OpenSSL context for every connection and
                // cannot resume sessions (measured: 2.1x nginx's CPU per handshake with it, 1.7x without).
                // Weak suites are refused after the handshake instead (ModernCipherSuites).
                ApplicationProtocols = Protocols,

                // RFC 9113 §9.2.1: no renegotiation under HTTP/2; and none is needed without client certificates.
                AllowRenegotiation = false,
                ClientCertificateRequired = false,
            };
            first ??= options;

            // The first certificate that names a host serves it, as the files are listed.
            foreach (var name in certificate.DnsNames)
            {
                if (name.StartsWith("*.", StringComparison.Ordinal))
                {
                    wildcards.TryAdd(name[2..], options);
                }
                else
                {
                    exact.TryAdd(name, options);
                }
            }
        }

        _default = first ?? throw new ArgumentException("At least one certificate is needed.", nameof(certificates));
        _exact = exact.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _wildcards = wildcards.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase).GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyList<LoadedCertificate> Certificates { get; }

    /// <summary>The options for a client that asked for <paramref name="serverName"/> (null or empty: it named none).</summary>
    public SslServerAuthenticationOptions Select(string? serverName)
    {
        if (string.IsNullOrEmpty(serverName))
        {
            return _default;
        }

        if (_exact.TryGetValue(serverName, out var options))
        {
            return options;
        }

        var dot = serverName.IndexOf('.');
        return dot > 0 && _wildcards.TryGetValue(serverName.AsSpan(dot + 1), out options) ? options : _default;
    }
}
