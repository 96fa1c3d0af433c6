using Gateway.Configuration;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Tls;

/// <summary>Listener, certificate and HTTP/2 settings that cannot work are refused at start, each naming its key.</summary>
public sealed class EdgeSettingsValidationTests : IDisposable
{
    private readonly GatewayOptionsValidator _validator = new();
    private readonly TestCertificates _certificates = new();

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public void A_served_certificate_and_good_listeners_are_valid()
    {
        var pair = _certificates.Issue("edge", "gateway.test");
        var options = Valid();
        options.Endpoints = new EndpointsOptions { Http = "*:8080", Https = "[::]:8443", HttpsPort = 443 };
        options.Tls.Certificates = [new CertificateFileOptions { CertificateFile = pair.CertificateFile, KeyFile = pair.KeyFile }];
        options.Tls.Hsts = new HstsOptions { MaxAge = TimeSpan.FromDays(365), IncludeSubDomains = true, Preload = true };

        var result = _validator.Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Each_bad_edge_setting_is_reported_with_its_key()
    {
        var pair = _certificates.Issue("edge", "gateway.test");
        TestCertificates.WriteMismatched(pair);
        var options = Valid();
        options.Endpoints = new EndpointsOptions { Http = "8080", Https = "::1:8443", HttpsPort = 0 };
        options.Tls = new TlsOptions
        {
            Certificates =
            [
                new CertificateFileOptions { CertificateFile = pair.CertificateFile, KeyFile = pair.KeyFile },
                new CertificateFileOptions { CertificateFile = "/nonexistent.crt", KeyFile = "/nonexistent.key" },
                new CertificateFileOptions { CertificateFile = pair.CertificateFile },
            ],
            ReloadInterval = TimeSpan.Zero,
            Hsts = new HstsOptions { MaxAge = TimeSpan.FromDays(30), Preload = true },
        };
        options.Limits.Http2 = new Http2LimitsOptions
        {
            MaxStreamsPerConnection = 0,
            MaxFrameSize = 1024,
            InitialConnectionWindowSize = 65_535,
            InitialStreamWindowSize = 1024 * 1024,
            ResetFloodStreamsPerSecond = 0,
        };

        var message = _validator.Validate(null, options).FailureMessage;

        foreach (var expected in new[]
        {
            "Gateway:Endpoints:Http must be host:port", "Gateway:Endpoints:Https must be host:port", "Gateway:Endpoints:HttpsPort",
            "Gateway:Tls:Certificates:0: ", "Gateway:Tls:Certificates:1: cannot read /nonexistent.crt",
            "Gateway:Tls:Certificates:2 needs both CertificateFile and KeyFile", "Gateway:Tls:ReloadInterval",
            "Gateway:Tls:Hsts:Preload", "Gateway:Limits:Http2:MaxStreamsPerConnection", "Gateway:Limits:Http2:MaxFrameSize",
            "Gateway:Limits:Http2:InitialConnectionWindowSize", "Gateway:Limits:Http2:ResetFloodStreamsPerSecond",
        })
        {
            Assert.Contains(expected, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Https_without_a_certificate_and_certificates_without_https_are_both_refused()
    {
        var withoutCertificate = Valid();
        withoutCertificate.Endpoints.Https = "0.0.0.0:8443";
        var withoutListener = Valid();
        withoutListener.Tls.Certificates = [new CertificateFileOptions { CertificateFile = "/a.crt", KeyFile = "/a.key" }];

        Assert.Contains("Gateway:Endpoints:Https needs at least one certificate", _validator.Validate(null, withoutCertificate).FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Gateway:Endpoints:Https is empty", _validator.Validate(null, withoutListener).FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_certificate_that_may_not_authenticate_a_server_is_refused()
    {
        // The test authority's own certificate: a CA certificate, with no key file of its own here.
        var key = Path.Combine(_certificates.Directory, "none.key");
        File.WriteAllText(key, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
        var options = Valid();
        options.Endpoints.Https = "0.0.0.0:8443";
        options.Tls.Certificates = [new CertificateFileOptions { CertificateFile = _certificates.RootFile, KeyFile = key }];

        var message = _validator.Validate(null, options).FailureMessage;

        Assert.Contains("Gateway:Tls:Certificates:0: ", message, StringComparison.Ordinal);
    }

    private static GatewayOptions Valid() => new() { Auth = { Mode = AuthMode.None } };
}
