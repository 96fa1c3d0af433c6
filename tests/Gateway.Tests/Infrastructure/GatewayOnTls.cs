namespace Gateway.Tests.Infrastructure;

/// <summary>
/// The gateway as the edge: HTTPS only, two certificates of a private authority (the platform's name, and a
/// wildcard for workspace origins), re-read every second, HSTS on.
/// </summary>
public class GatewayOnTls : GatewayWithBackends
{
    public const string PlatformName = "gateway.test";
    public const string WorkspaceWildcard = "*.ws.test";

    public TestCertificates Certificates { get; } = new();

    public CertificatePair Platform { get; private set; } = null!;

    public CertificatePair Workspaces { get; private set; } = null!;

    protected override Task<GatewayHost> StartGatewayAsync(string[] arguments)
    {
        Platform = Certificates.Issue("platform", PlatformName, "localhost");
        Workspaces = Certificates.Issue("workspaces", WorkspaceWildcard);
        return GatewayHost.StartAsync(Redis, Certificates,
        [
            .. arguments,
            "--Gateway:Endpoints:Https=127.0.0.1:0",
            .. Platform.Settings(0),
            .. Workspaces.Settings(1),
            "--Gateway:Tls:ReloadInterval=00:00:01",
            "--Gateway:Tls:Hsts:MaxAge=1.00:00:00",
        ]);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Certificates.Dispose();
    }
}

/// <summary>The same with access checks on: tests present tickets from <see cref="TestTickets"/>.</summary>
public sealed class TicketGatewayOnTls : GatewayOnTls
{
    protected override string[] GatewayArguments => TestTickets.GatewayArgs;
}

/// <summary>The same with the connection-level fast path off.</summary>
public sealed class YarpGatewayOnTls : GatewayOnTls
{
    protected override string[] GatewayArguments => [.. base.GatewayArguments, WithoutFastPath];
}
