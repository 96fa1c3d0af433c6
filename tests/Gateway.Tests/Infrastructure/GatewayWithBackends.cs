using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A real redis-server, two real workspace backends (A and B) and a gateway in front, shared by one test
/// class. HTTP exchanges idle for 2 s time out so the 504 path is quick to reach.
/// </summary>
public class GatewayWithBackends : IAsyncLifetime
{
    public GatewayWithBackends()
        : this(new RedisServer())
    {
    }

    /// <summary>In front of <paramref name="redis"/>: the gateway signs in as its user when the server has users.</summary>
    protected GatewayWithBackends(RedisServer redis) => Redis = redis;

    public RedisServer Redis { get; }

    public TestBackend A { get; private set; } = null!;

    public TestBackend B { get; private set; } = null!;

    public GatewayHost Gateway { get; private set; } = null!;

    public RedisTestClient Writer { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Redis.InitializeAsync();
        A = await TestBackend.StartAsync("A");
        B = await TestBackend.StartAsync("B");
        Writer = Redis.Connect();
        Gateway = await StartGatewayAsync(["--Gateway:Forwarding:HttpActivityTimeout=00:00:02", .. GatewayArguments]);

        // Ready means Redis answered and the subscription has proven live: before it, a first lookup can
        // meet a connection still being made.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            using var ready = await Gateway.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
            if (ready.IsSuccessStatusCode)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, "the gateway was not ready within 10 s");
            await Task.Delay(20);
        }
    }

    /// <summary>Starts the gateway in front of <see cref="Redis"/> with <paramref name="arguments"/>.</summary>
    protected virtual Task<GatewayHost> StartGatewayAsync(string[] arguments) => GatewayHost.StartAsync(Redis, arguments);

    /// <summary>Turns the connection-level fast path off: every request goes the YARP way.</summary>
    public const string WithoutFastPath = "--Gateway:Forwarding:FastPath=false";

    /// <summary>Further settings for the gateway, passed as <c>--Gateway:...=...</c>.</summary>
    protected virtual string[] GatewayArguments => [];

    /// <summary>Whether this gateway forwards what it can on the connection-level fast path (the default).</summary>
    public bool FastPath => !GatewayArguments.Contains(WithoutFastPath);

    /// <summary>The settings that pick this fixture's way of forwarding, for a gateway a test starts itself.</summary>
    public string[] ForwardingArguments => FastPath ? [] : [WithoutFastPath];

    public virtual async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await A.DisposeAsync();
        await B.DisposeAsync();
        Writer.Dispose();
        await Redis.DisposeAsync();
        Redis.Users?.Delete();
    }

    /// <summary>After a test restarted Redis, the writer's old connection is gone.</summary>
    public void ReconnectWriter()
    {
        Writer.Dispose();
        Writer = Redis.Connect();
    }

    /// <summary>
    /// A fresh sid routed to <paramref name="address"/> and looked up by <paramref name="gateway"/> (this fixture's by
    /// default) without a request reaching the workspace, so the first request is served from the cache (the fast
    /// path takes only cached routes). No PUBLISH, for the reason <see cref="RouteCachedAsync"/> gives.
    /// </summary>
    public async Task<string> RouteResolvedAsync(string address, GatewayHost? gateway = null)
    {
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await Writer.SetRouteAsync(sid, address);
        var resolver = (gateway ?? Gateway).Services.GetRequiredService<global::Gateway.Routing.IRouteResolver>();
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while ((await resolver.ResolveAsync(sid, CancellationToken.None)).Status != global::Gateway.Routing.RouteLookupStatus.Found)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{sid} not resolved within 5 s");
            await Task.Delay(100);
        }

        return sid;
    }

    /// <summary>
    /// A fresh sid routed to <paramref name="backend"/> and already in the gateway's cache, for tests about
    /// forwarding rather than lookups: a first lookup can miss its 150-ms budget on a busy CI machine (503),
    /// and a request body sent meanwhile would only time out. No PUBLISH: nobody asked for this sid yet, and
    /// a notice arriving after the warm-up would drop it from the cache again.
    /// </summary>
    public async Task<string> RouteCachedAsync(TestBackend backend)
    {
        var sid = "w" + Guid.NewGuid().ToString("N")[..12];
        await Writer.SetRouteAsync(sid, backend.Address);
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            using var response = await Gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
            if (response.StatusCode != System.Net.HttpStatusCode.ServiceUnavailable)
            {
                return sid;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{sid} not served within 5 s");
            await Task.Delay(100);
        }
    }

    /// <summary>Points a sid (a fresh one by default) at a backend and announces it, the way the web API or operator would.</summary>
    public async Task<string> RouteAsync(TestBackend backend, string? sid = null)
    {
        sid ??= "w" + Guid.NewGuid().ToString("N")[..12];
        await Writer.SetRouteAsync(sid, backend.Address);
        await Writer.PublishAsync(sid);
        return sid;
    }
}

/// <summary>The same, with access checks on: tests present tickets from <see cref="TestTickets"/>.</summary>
public class TicketGatewayWithBackends : GatewayWithBackends
{
    protected override string[] GatewayArguments => [.. TestTickets.GatewayArgs, "--Gateway:Forwarding:TrustedProxies:0=127.0.0.2/32"];
}

/// <summary>
/// The same on a Redis with the platform's users (config/redis-users.acl): the gateway signs in as
/// <c>gateway</c> with its password file, the tests' writer as <c>admin</c>.
/// </summary>
public sealed class GatewayOnRedisUsers() : GatewayWithBackends(new RedisServer(new RedisUsers()))
{
    public RedisUsers Users => Redis.Users!;
}

/// <summary>The same with the connection-level fast path off (<c>Gateway:Forwarding:FastPath</c>).</summary>
public sealed class YarpGatewayWithBackends : GatewayWithBackends
{
    protected override string[] GatewayArguments => [WithoutFastPath];
}

/// <summary>Access checks on, the fast path off.</summary>
public sealed class YarpTicketGatewayWithBackends : TicketGatewayWithBackends
{
    protected override string[] GatewayArguments => [.. base.GatewayArguments, WithoutFastPath];
}
