using Gateway.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Tls;

/// <summary>
/// OCSP stapling is .NET's (SslStreamCertificateContext on Linux): the gateway builds each certificate's
/// context with its chain and online, so .NET asks the certificate's OCSP responder and staples the answer.
/// What can be seen from here without a real CA: that the responder is asked.
/// </summary>
public sealed class OcspStaplingTests : IAsyncLifetime, IDisposable
{
    private readonly RedisServer _redis = new();
    private readonly TestCertificates _certificates = new();
    private readonly TaskCompletionSource<string> _asked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _responder = null!;
    private Uri _responderAddress = null!;

    public async Task InitializeAsync()
    {
        await _redis.InitializeAsync();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _responder = builder.Build();
        _responder.Run(context =>
        {
            _asked.TrySetResult($"{context.Request.Method} {context.Request.Path}");
            context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return Task.CompletedTask;
        });
        await _responder.StartAsync();
        _responderAddress = new Uri(_responder.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/ocsp");
    }

    public async Task DisposeAsync()
    {
        await _responder.DisposeAsync();
        await _redis.DisposeAsync();
    }

    public void Dispose() => _certificates.Dispose();

    [Fact]
    public async Task The_gateway_asks_the_certificates_ocsp_responder_to_staple_its_answer()
    {
        var pair = _certificates.IssueWithOcsp("stapled", _responderAddress, "gateway.test");

        await using var gateway = await GatewayHost.StartAsync(_redis, _certificates, ["--Gateway:Endpoints:Https=127.0.0.1:0", .. pair.Settings(0)]);
        using var response = await gateway.Client.GetAsync(new Uri("/healthz", UriKind.Relative));

        var asked = await _asked.Task.WaitAsync(TimeSpan.FromSeconds(15));
        // RFC 6960 Appendix A.1: a GET of the base64 request under the responder's address.
        Assert.StartsWith("GET /ocsp/", asked, StringComparison.Ordinal);
    }
}
