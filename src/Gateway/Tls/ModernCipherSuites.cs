using System.Net.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Gateway.Tls;

/// <summary>
/// Connection middleware after TLS: a connection whose handshake settled on anything but a forward-secret
/// AEAD suite (Mozilla's "intermediate" list: TLS 1.3's, and TLS 1.2's ECDHE with AES-GCM or ChaCha20) is
/// closed before a byte of it is read. Enforced here rather than by a cipher list given to SslStream, which
/// would make .NET build a new OpenSSL context per connection and give up session resumption. Every browser
/// offers these suites first, so only clients that offer nothing else are turned away.
/// </summary>
internal sealed partial class ModernCipherSuites(ConnectionDelegate next, ILogger<ModernCipherSuites> logger)
{
    private static readonly HashSet<TlsCipherSuite> Allowed =
    [
        TlsCipherSuite.TLS_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    ];

    public Task OnConnectionAsync(ConnectionContext context)
    {
        if (context.Features.Get<ITlsHandshakeFeature>()?.NegotiatedCipherSuite is { } suite && !Allowed.Contains(suite))
        {
            LogRefused(context.RemoteEndPoint, suite);
            context.Abort(new ConnectionAbortedException("TLS cipher suite not allowed"));
            return Task.CompletedTask;
        }

        return next(context);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closed a TLS connection from {Client}: it offered no forward-secret AEAD suite and settled on {Suite}")]
    private partial void LogRefused(System.Net.EndPoint? client, TlsCipherSuite suite);
}
