using System.Net;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Auth;

/// <summary>With the gateway's defaults: the fast path serves what it takes, the YARP way the rest.</summary>
public sealed class CredentialSecrecyTests(GatewayWithBackends env) : CredentialSecrecyTests<GatewayWithBackends>(env);

/// <summary>The same with the fast path off: every request the YARP way, which the fast path must match.</summary>
public sealed class CredentialSecrecyTestsThroughYarp(YarpGatewayWithBackends env) : CredentialSecrecyTests<YarpGatewayWithBackends>(env);

/// <summary>Tickets and session cookies never appear in the gateway's logs.</summary>
public abstract class CredentialSecrecyTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : GatewayWithBackends
{
    [Fact]
    public async Task No_log_line_carries_a_ticket_or_session_even_with_every_category_verbose()
    {
        var sid = await env.RouteAsync(env.A);
        var other = await env.RouteAsync(env.B);
        await using var gateway = GatewayProcess.Start(
            ("Gateway__Redis__Configuration", env.Redis.Configuration),
            ("Gateway__Auth__Mode", "Ticket"),
            ("Gateway__Auth__SigningKey", TestTickets.KeyBase64),
            ("Logging__LogLevel__Default", "Debug"),
            ("Logging__LogLevel__Microsoft.AspNetCore", "Debug"),
            ("Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics", "Debug"),
            ("Logging__LogLevel__Yarp", "Debug"));
        await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/healthz", UriKind.Relative)));

        var ticket = TestTickets.Ticket(sid);
        var expired = TestTickets.Ticket(sid, lifetime: TimeSpan.FromMinutes(-5));
        var forged = TestTickets.Hs256(TestTickets.Claims(sid, "x", TestTickets.Audience, TimeSpan.FromMinutes(1)), key: new byte[32]);
        var session = TestTickets.Session(sid);
        var requests = new (string Path, string? Bearer, string? Cookie, HttpStatusCode Expected)[]
        {
            ($"/ws/{sid}/?ticket={ticket}", null, null, HttpStatusCode.SeeOther),
            ($"/ws/{sid}/?ticket={expired}", null, null, HttpStatusCode.Unauthorized),
            ($"/ws/{sid}/?ticket={forged}", null, null, HttpStatusCode.Unauthorized),
            ($"/ws/{other}/?ticket={ticket}", null, null, HttpStatusCode.Forbidden),
            ($"/ws/{sid}/upload?ticket={ticket}", null, null, HttpStatusCode.OK),
            ($"/ws/{sid}/", forged, null, HttpStatusCode.Unauthorized),
            ($"/ws/{sid}/", ticket, null, HttpStatusCode.OK),
            ($"/ws/{sid}/", null, "gw_session=" + session, HttpStatusCode.OK),
            ($"/ws/{other}/", null, "gw_session=" + session, HttpStatusCode.Forbidden),
            ($"/ws/{sid}/proxy/0/?ticket={ticket}", null, null, HttpStatusCode.BadRequest),
        };
        foreach (var (path, bearer, cookie, expected) in requests)
        {
            // A POST is admitted by the ticket itself (no redirect) and forwarded without it.
            using var request = new HttpRequestMessage(path.Contains("/upload", StringComparison.Ordinal) ? HttpMethod.Post : HttpMethod.Get, path);
            if (bearer is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + bearer);
            }

            if (cookie is not null)
            {
                request.Headers.TryAddWithoutValidation("Cookie", cookie);
            }

            using var handlerFree = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = gateway.Client.BaseAddress };
            using var response = await handlerFree.SendAsync(request);
            Assert.True(expected == response.StatusCode, $"{path}: {(int)response.StatusCode}");
        }

        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var output = string.Join('\n', gateway.Output);
        Assert.Contains("refused with 401", output, StringComparison.Ordinal);
        foreach (var token in new[] { ticket, expired, forged, session })
        {
            var signature = token[(token.LastIndexOf('.') + 1)..];
            var payload = token.Split('.')[1];
            Assert.DoesNotContain(signature, output, StringComparison.Ordinal);
            Assert.DoesNotContain(payload, output, StringComparison.Ordinal);
        }
    }
}
