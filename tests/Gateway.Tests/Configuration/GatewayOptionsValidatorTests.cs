using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

public class GatewayOptionsValidatorTests
{
    private readonly GatewayOptionsValidator _validator = new();

    [Fact]
    public void The_defaults_with_a_signing_key_are_valid() =>
        Assert.True(_validator.Validate(null, new GatewayOptions { Auth = { SigningKey = Convert.ToBase64String(new byte[32]) } }).Succeeded);

    [Fact]
    public void Access_checks_are_on_by_default_and_need_a_key()
    {
        var result = _validator.Validate(null, new GatewayOptions());

        Assert.Equal(AuthMode.Ticket, new GatewayOptions().Auth.Mode);
        Assert.False(result.Succeeded);
        Assert.Contains("Gateway:Auth:SigningKey", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Platform_host_names_are_names_with_an_optional_port()
    {
        var good = new GatewayOptions { Auth = { Mode = AuthMode.None }, Routes = { PlatformHosts = ["ide.example.com", "localhost:8080", "*.example.com", "127.0.0.1"] } };
        var bad = new GatewayOptions { Auth = { Mode = AuthMode.None }, Routes = { PlatformHosts = ["http://ide.example.com", "ide.example.com/page", "a b"] } };

        Assert.True(_validator.Validate(null, good).Succeeded);
        var message = _validator.Validate(null, bad).FailureMessage ?? "";
        Assert.Equal(3, message.Split("Gateway:Routes:PlatformHosts").Length - 1);
    }

    [Fact]
    public void Export_headers_are_name_value_pairs()
    {
        var good = new GatewayOptions { Auth = { Mode = AuthMode.None }, Telemetry = { Headers = "x-otlp-api-key=abc,tenant=a=b" } };
        var bad = new GatewayOptions { Auth = { Mode = AuthMode.None }, Telemetry = { Headers = "x-otlp-api-key" } };

        Assert.True(_validator.Validate(null, good).Succeeded);
        Assert.Contains("Gateway:Telemetry:Headers", _validator.Validate(null, bad).FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Mode_none_needs_no_key() =>
        Assert.True(_validator.Validate(null, new GatewayOptions { Auth = { Mode = AuthMode.None } }).Succeeded);

    [Fact]
    public void The_websocket_idle_timeout_defaults_to_at_least_thirty_minutes() =>
        Assert.True(new GatewayOptions().Forwarding.WebSocketIdleTimeout >= TimeSpan.FromMinutes(30));

    [Fact]
    public void Each_bad_value_is_reported_with_its_key()
    {
        var options = new GatewayOptions
        {
            Redis = new RedisOptions { Configuration = " ", LookupTimeout = TimeSpan.Zero },
            Routes = new RoutesOptions { SidCharacters = "abc/", SidMaxLength = 0, NegativeCacheTtl = TimeSpan.FromSeconds(-1) },
            Forwarding = new ForwardingOptions { WebSocketIdleTimeout = TimeSpan.Zero, RetryAfterSeconds = 0, ShutdownDrainTimeout = TimeSpan.Zero, TrustedProxies = ["10.0.0.0/33"] },
            Limits = new LimitsOptions { MaxRequestBodySize = -1, MaxRequestHeadersTotalSize = 10, MaxRequestHeaderCount = 0, MaxRequestLineSize = 0, MaxConcurrentConnections = 0 },
            Auth = new AuthOptions
            {
                SigningKey = Convert.ToBase64String(new byte[16]),
                TicketPublicKeyFiles = ["/nonexistent.pem"],
                CookieName = "a;b",
                TicketParameter = "",
                SessionLifetime = TimeSpan.Zero,
                ClockSkew = TimeSpan.FromHours(1),
                LoginUrl = "//evil.example",
            },
            StaticRoutes = new() { ["web"] = new StaticRouteOptions { PathPrefix = "/ws/x", Destination = "ftp://x" } },
        };

        var result = _validator.Validate(null, options);

        Assert.False(result.Succeeded);
        var message = result.FailureMessage;
        foreach (var key in new[]
        {
            "Gateway:Redis:Configuration", "Gateway:Redis:LookupTimeout", "Gateway:Routes:SidCharacters",
            "Gateway:Routes:SidMaxLength", "Gateway:Routes:NegativeCacheTtl", "Gateway:Forwarding:WebSocketIdleTimeout",
            "Gateway:Forwarding:RetryAfterSeconds", "Gateway:Forwarding:ShutdownDrainTimeout", "Gateway:StaticRoutes:web:PathPrefix",
            "Gateway:StaticRoutes:web:Destination", "Gateway:Limits:MaxRequestBodySize", "Gateway:Limits:MaxRequestHeadersTotalSize",
            "Gateway:Limits:MaxRequestHeaderCount", "Gateway:Limits:MaxRequestLineSize", "Gateway:Limits:MaxConcurrentConnections",
            "Gateway:Forwarding:TrustedProxies", "Gateway:Auth:SigningKey", "Gateway:Auth:TicketPublicKeyFiles", "Gateway:Auth:CookieName",
            "Gateway:Auth:TicketParameter", "Gateway:Auth:SessionLifetime", "Gateway:Auth:ClockSkew", "Gateway:Auth:LoginUrl",
        })
        {
            Assert.Contains(key, message, StringComparison.Ordinal);
        }
    }
}

public class WorkspaceDomainValidationTests
{
    private readonly GatewayOptionsValidator _validator = new();

    [Theory]
    [InlineData("ws.example.com")]
    [InlineData("localhost:8080")]
    [InlineData("localhost")]
    [InlineData("ide-1.example.org:443")]
    public void Lower_case_DNS_names_with_an_optional_port_are_accepted(string domain) =>
        Assert.True(Validate(domain).Succeeded);

    [Theory]
    [InlineData("WS.example.com")]
    [InlineData(".ws.example.com")]
    [InlineData("ws.example.com.")]
    [InlineData("ws..example.com")]
    [InlineData("*.ws.example.com")]
    [InlineData("ws.example.com:0")]
    [InlineData("ws.example.com:08080")]
    [InlineData("ws.example.com:65536")]
    [InlineData("127.0.0.1")]
    [InlineData("-ws.example.com")]
    [InlineData("https://ws.example.com")]
    public void Anything_else_is_refused_at_start_up_by_name(string domain)
    {
        var result = Validate(domain);

        Assert.False(result.Succeeded);
        Assert.Contains("Gateway:Routes:WorkspaceDomain", result.FailureMessage, StringComparison.Ordinal);
    }

    private Microsoft.Extensions.Options.ValidateOptionsResult Validate(string domain) => _validator.Validate(null, new GatewayOptions
    {
        Auth = { Mode = AuthMode.None },
        Routes = new RoutesOptions { WorkspaceDomain = domain },
    });
}
