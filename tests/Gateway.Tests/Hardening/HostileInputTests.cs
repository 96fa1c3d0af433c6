using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Hardening;

/// <summary>
/// A gateway with access checks on, a 1 MiB body limit and a 2 s header deadline (so limits are quick to
/// reach), in front of workspace A (the attacker's) and B (someone else's).
/// </summary>
public class HostileGateway : GatewayWithBackends
{
    private Task? _routed;

    protected override string[] GatewayArguments =>
        [.. TestTickets.GatewayArgs, "--Gateway:Limits:MaxRequestBodySize=1048576", "--Gateway:Limits:RequestHeadersTimeout=00:00:02",
            $"--Gateway:Routes:WorkspaceDomain={HostileCases.Domain}"];

    public Task EnsureRoutedAsync() => _routed ??= RouteBothAsync();

    private async Task RouteBothAsync()
    {
        await RouteAsync(A, HostileCases.A);
        await RouteAsync(B, HostileCases.B);
        await RouteAsync(A, HostileCases.OriginA);
        await RouteAsync(B, HostileCases.OriginB);
        await Writer.SetSharesAsync(HostileCases.Stopped, "3000=public");
        await Writer.PublishAsync(HostileCases.Stopped);
    }
}

/// <summary>Every case of <see cref="HostileCases"/> over a real socket, with the rules every case obeys.</summary>
/// <summary>With the gateway's defaults: the fast path serves what it takes, the YARP way the rest.</summary>
public sealed class YarpHostileGateway : HostileGateway
{
    protected override string[] GatewayArguments => [.. base.GatewayArguments, GatewayWithBackends.WithoutFastPath];
}

/// <summary>With the gateway's defaults: the fast path serves what it takes, the YARP way the rest.</summary>
public sealed class HostileInputTests(HostileGateway env) : HostileInputTests<HostileGateway>(env);

/// <summary>The same with the fast path off: every request the YARP way, which the fast path must match.</summary>
public sealed class HostileInputTestsThroughYarp(YarpHostileGateway env) : HostileInputTests<YarpHostileGateway>(env);

public abstract class HostileInputTests<TGateway>(TGateway env) : IClassFixture<TGateway>
    where TGateway : HostileGateway
{
    [Theory]
    [MemberData(nameof(HostileCases.Names), MemberType = typeof(HostileCases))]
    public async Task Hostile_input_is_refused_correctly_and_never_reaches_another_workspace(string name)
    {
        var hostile = HostileCases.All[name];
        await env.EnsureRoutedAsync();
        var (beforeA, beforeB) = (env.A.Requests, env.B.Requests);
        var port = env.Gateway.Address.Port;

        var exchange = await RawHttpExchange.SendAsync(
            port,
            hostile.Bytes(env.Gateway.Address.Authority),
            hostile.Deadline,
            hostile.Write is null ? null : (stream, cancel) => hostile.Write(stream, hostile.Bytes(env.Gateway.Address.Authority), cancel));

        File.AppendAllText(Path.Combine(AppContext.BaseDirectory, "hostile-outcomes.txt"), $"{name}\t{string.Join(",", exchange.Statuses)}\t{(exchange.ServedBy("A") ? "A" : "-")}\t{exchange.Text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\n");
        var seen = $"got [{string.Join(", ", exchange.Statuses)}] after {exchange.Elapsed.TotalMilliseconds:F0} ms: {Excerpt(exchange.Text)}";
        // The one 5xx allowed is Kestrel's 505 for an HTTP version it does not speak: RFC 9110 §15.6.6 names it.
        Assert.True(exchange.Statuses.All(status => status < 500 || (status == 505 && name.EndsWith("unknown HTTP version", StringComparison.Ordinal))), $"a 5xx: {seen}");
        Assert.True(env.B.Requests == beforeB, $"workspace B was reached: {seen}");
        Assert.InRange(env.A.Requests - beforeA, 0, hostile.Requests);
        if (exchange.ServedBy("A"))
        {
            Assert.All(HostileCases.Secrets, secret => Assert.DoesNotContain(secret, exchange.Text, StringComparison.Ordinal));
        }

        Assert.True(hostile.Expect.Holds(exchange), $"expected {hostile.Expect.Description}, {seen}");

        // Still serving the next, ordinary client.
        using var check = new HttpRequestMessage(HttpMethod.Get, $"/ws/{HostileCases.A}/");
        check.Headers.TryAddWithoutValidation("Authorization", "Bearer " + HostileCases.TicketA);
        using var response = await env.Gateway.Client.SendAsync(check);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void The_table_holds_at_least_two_hundred_cases() => Assert.InRange(HostileCases.All.Count, 200, int.MaxValue);

    private static string Excerpt(string text) => text.Length <= 400 ? text : text[..400] + "...";
}
