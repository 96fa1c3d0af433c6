using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using Gateway.Tests.Infrastructure;
using ServiceDefaults.Redis;

namespace Gateway.Tests.Routing;

/// <summary>
/// The gateway signs in to Redis as its own ACL user (config/redis-users.acl) with a password from a file.
/// A rotation reaches it without a restart, and whatever goes wrong with the sign-in or its rights is said
/// in words naming the setting, while the gateway keeps running and answers 503, never 500.
/// </summary>
public sealed class RedisSignInTests(GatewayOnRedisUsers env) : IClassFixture<GatewayOnRedisUsers>
{
    [Fact]
    public async Task A_rotated_password_is_used_without_a_restart_and_no_open_editor_is_dropped()
    {
        var sid = await env.RouteAsync(env.A);
        using var editor = new ClientWebSocket();
        await editor.ConnectAsync(env.Gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None);
        Assert.Equal("A:before", await editor.EchoAsync("before"));

        // 1. Redis accepts the old and the new password; the gateway's file gets the new one below the old.
        var old = env.Users.Password(RedisUsers.Gateway);
        var next = RedisUsers.NewPassword();
        env.Users.SetPasswords(RedisUsers.Gateway, old, next);
        env.Users.Sync(env.Redis.Port);
        var signIn = env.Gateway.Services.GetRequiredService<RedisSignIn>();
        await Eventually.TrueAsync(() => Task.FromResult(signIn.Options.Password == next), "the gateway re-read its password file", RedisConnectionMonitor.CheckInterval * 3);

        // 2. The old password goes; every connection the gateway has is cut, so it must sign in anew.
        env.Users.SetPasswords(RedisUsers.Gateway, next);
        env.Users.Sync(env.Redis.Port);
        Assert.NotEqual(0L, await env.Writer.ExecuteAsync("CLIENT", "KILL", "USER", RedisUsers.Gateway));

        // It does, with the new password: a workspace it never saw is looked up, a move is heard of.
        var fresh = await env.RouteAsync(env.B);
        await Eventually.TrueAsync(async () => await env.Gateway.Client.BackendOfAsync(fresh) == "B", "a new workspace is looked up after the rotation", TimeSpan.FromSeconds(10));
        using (var ready = await env.Gateway.Client.GetAsync(new Uri("/readyz", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        // The editor opened before the rotation never noticed.
        Assert.Equal(WebSocketState.Open, editor.State);
        Assert.Equal("A:after", await editor.EchoAsync("after"));
    }

    [Fact]
    public async Task A_wrong_password_is_said_in_words_the_gateway_keeps_running_and_answers_503_until_it_is_mended()
    {
        var directory = Directory.CreateTempSubdirectory("gateway-password");
        var passwordFile = Path.Combine(directory.FullName, "redis-password");
        await File.WriteAllTextAsync(passwordFile, "not-the-password\n");
        await env.Writer.SetRouteAsync("ws-wrongpass", env.A.Address);

        await using var gateway = StartProcess(("Gateway__Redis__PasswordFile", passwordFile));
        using var ready = await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/readyz", UriKind.Relative)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

        await Eventually.TrueAsync(() => Task.FromResult(gateway.FindLog("refused to sign in user 'gateway'") is not null), "the refusal is logged", TimeSpan.FromSeconds(10));
        var (level, refusal) = gateway.FindLog("refused to sign in user 'gateway'")!.Value;
        Assert.Equal("Error", level);
        Assert.Contains("WRONGPASS", refusal, StringComparison.Ordinal);
        Assert.Contains($"Gateway:Redis:PasswordFile ({passwordFile})", refusal, StringComparison.Ordinal);
        Assert.True(!gateway.Output.Any(line => line.Contains("   at ", StringComparison.Ordinal)), string.Join('\n', gateway.Output.Where(line => line.Contains("   at ", StringComparison.Ordinal))));

        using (var request = await gateway.Client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/ws/ws-wrongpass/") { Headers = { { "Accept", "application/json" } } }))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, request.StatusCode);
            Assert.Contains("route_store_unavailable", await request.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.False(gateway.Process.HasExited);

        // The Secret is mended: the next check reads it, the next reconnect uses it.
        await File.WriteAllTextAsync(passwordFile, env.Users.Password(RedisUsers.Gateway) + "\n");
        await Eventually.TrueAsync(async () => (await gateway.Client.GetAsync(new Uri("/readyz", UriKind.Relative))).IsSuccessStatusCode, "ready once the password is right", RedisConnectionMonitor.CheckInterval * 4);
        Assert.Equal("A", await gateway.Client.BackendOfAsync("ws-wrongpass"));
        await Eventually.TrueAsync(() => Task.FromResult(gateway.FindLog("Redis answers again, signed in as 'gateway'") is not null), "the recovery is logged", RedisConnectionMonitor.CheckInterval * 2);
        directory.Delete(recursive: true);
    }

    [Fact]
    public async Task A_right_the_gateway_lacks_is_named_with_its_command_and_requests_are_still_answered()
    {
        // The platform's rules with two of the gateway's rights taken away.
        var directory = Directory.CreateTempSubdirectory("redis-rules");
        var rules = Path.Combine(directory.FullName, "redis-users.acl");
        var shipped = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "config", "redis-users.acl"));
        await File.WriteAllTextAsync(rules, shipped.Replace(" +zadd", "", StringComparison.Ordinal).Replace(" +subscribe", "", StringComparison.Ordinal));
        var users = new RedisUsers(rules);
        await using var redis = new RedisServer(users);
        await redis.InitializeAsync();
        try
        {
            using var writer = redis.Connect();
            await writer.SetRouteAsync("ws-rights", env.A.Address);
            await using var gateway = GatewayProcess.Start(
                ("Gateway__Redis__Configuration", redis.Configuration),
                ("Gateway__Redis__User", RedisUsers.Gateway),
                ("Gateway__Redis__PasswordFile", users.PasswordFile(RedisUsers.Gateway)),
                ("Gateway__Activity__FlushInterval", "00:00:00.200"));
            var served = await gateway.WhenServingAsync(client => client.BackendOfAsync("ws-rights"));
            Assert.Equal("A", served);

            foreach (var refused in new[] { "Redis refused ZADD activity to user 'gateway' (Gateway:Redis:User): NOPERM", "Redis refused SUBSCRIBE routes:changed to user 'gateway' (Gateway:Redis:User): NOPERM" })
            {
                await Eventually.TrueAsync(() => Task.FromResult(gateway.FindLog(refused) is not null), refused, TimeSpan.FromSeconds(10));
                var (level, message) = gateway.FindLog(refused)!.Value;
                Assert.Equal("Error", level);
                Assert.Contains("config/redis-users.acl", message, StringComparison.Ordinal);
            }

            // Not ready without proof that invalidations arrive, but never a 500 for a request.
            using var ready = await gateway.Client.GetAsync(new Uri("/readyz", UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Equal("A", await gateway.Client.BackendOfAsync("ws-rights"));
            Assert.False(gateway.Process.HasExited);
        }
        finally
        {
            users.Delete();
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Redis_over_TLS_is_trusted_through_the_CA_file_and_refused_in_words_without_it()
    {
        var tls = new RedisTls();
        await using var redis = new RedisServer(env.Users, tls);
        await redis.InitializeAsync();
        try
        {
            using var writer = redis.Connect();
            await writer.SetRouteAsync("ws-tls", env.A.Address);

            await using (var trusting = await GatewayHost.StartAsync(redis, $"--Gateway:Redis:TlsCaFile={tls.AuthorityFile}"))
            {
                await Eventually.TrueAsync(async () => await trusting.Client.BackendOfAsync("ws-tls") == "A", "the route is read over TLS", TimeSpan.FromSeconds(10));
            }

            // Without the CA the system's trust store does not know the server's certificate.
            await using var untrusting = GatewayProcess.Start(
                ("Gateway__Redis__Configuration", redis.Configuration),
                ("Gateway__Redis__User", RedisUsers.Gateway),
                ("Gateway__Redis__PasswordFile", env.Users.PasswordFile(RedisUsers.Gateway)));
            using var ready = await untrusting.WhenServingAsync(client => client.GetAsync(new Uri("/readyz", UriKind.Relative)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            await Eventually.TrueAsync(() => Task.FromResult(untrusting.FindLog("its TLS certificate is not trusted") is { Message: var m } && m.Contains("Gateway:Redis:TlsCaFile", StringComparison.Ordinal)), "the untrusted certificate is named", TimeSpan.FromSeconds(10));
            using var request = await untrusting.Client.GetAsync(new Uri("/ws/ws-tls/", UriKind.Relative));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, request.StatusCode);
        }
        finally
        {
            tls.Dispose();
        }
    }

    private GatewayProcess StartProcess(params (string Name, string? Value)[] settings) =>
        GatewayProcess.Start(
        [
            ("Gateway__Redis__Configuration", env.Redis.Configuration),
            ("Gateway__Redis__User", RedisUsers.Gateway),
            .. settings,
        ]);
}
