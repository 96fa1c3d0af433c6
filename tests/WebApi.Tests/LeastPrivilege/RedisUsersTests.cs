using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace WebApi.Tests.LeastPrivilege;

/// <summary>
/// The Redis users of config/redis-users.acl on a real redis-server, as deploy/base/redis/redis-acl.sh renders
/// them: each program's user may run what that program runs and nothing else, and a connection without a
/// password (a workspace's shell that found the port) may run nothing. Commands go over a plain RESP
/// connection, as redis-cli in a shell would send them.
/// </summary>
public sealed class RedisUsersTests : IAsyncLifetime
{
    private readonly RedisUsers _users = new();
    private readonly RedisServer _redis;

    public RedisUsersTests() => _redis = new RedisServer(_users);

    public static TheoryData<string, string[]> Allowed => new()
    {
        { RedisUsers.Gateway, ["HGET", "hosts", "ws-a"] },
        { RedisUsers.Gateway, ["HMGET", "hosts", "ws-a", "ws-b"] },
        { RedisUsers.Gateway, ["HGET", "shares", "ws-a"] },
        { RedisUsers.Gateway, ["HMGET", "shares", "ws-a", "ws-b"] },
        { RedisUsers.Gateway, ["ZADD", "activity", "1700000000", "ws-a"] },
        { RedisUsers.Gateway, ["PUBLISH", "routes:changed:probe:0f3c", "1"] },
        { RedisUsers.Gateway, ["SUBSCRIBE", "routes:changed"] },
        { RedisUsers.Operator, ["HGET", "hosts", "ws-a"] },
        { RedisUsers.Operator, ["HSET", "hosts", "ws-a", "10.1.2.3:9999"] },
        { RedisUsers.Operator, ["HDEL", "hosts", "ws-a"] },
        { RedisUsers.Operator, ["HSET", "shares", "ws-a", "3000=public"] },
        { RedisUsers.Operator, ["HDEL", "shares", "ws-a"] },
        { RedisUsers.Operator, ["PUBLISH", "routes:changed", "ws-a"] },
        { RedisUsers.WebApi, ["ZRANGEBYSCORE", "activity", "0", "+inf", "WITHSCORES"] },
        { RedisUsers.WebApi, ["ZREMRANGEBYSCORE", "activity", "-inf", "0"] },
        { RedisUsers.Admin, ["ACL", "LIST"] },
    };

    public static TheoryData<string, string[]> Refused => new()
    {
        // The gateway reads routes: it can point no workspace elsewhere, and announce nothing but its probes.
        { RedisUsers.Gateway, ["HSET", "hosts", "ws-victim", "10.66.6.6:9999"] },
        { RedisUsers.Gateway, ["HDEL", "hosts", "ws-victim"] },
        { RedisUsers.Gateway, ["DEL", "hosts"] },
        { RedisUsers.Gateway, ["HSET", "shares", "ws-victim", "9999=public"] },
        { RedisUsers.Gateway, ["PUBLISH", "routes:changed", "*"] },
        { RedisUsers.Gateway, ["ZRANGEBYSCORE", "activity", "0", "+inf"] },
        { RedisUsers.Gateway, ["ZREM", "activity", "ws-a"] },
        { RedisUsers.Gateway, ["HGET", "sessions", "x"] },
        { RedisUsers.Gateway, ["SUBSCRIBE", "__keyspace@0__:hosts"] },
        { RedisUsers.Gateway, ["EVAL", "return redis.call('HSET', 'hosts', 'ws-victim', '10.66.6.6:9999')", "0"] },
        { RedisUsers.Gateway, ["FLUSHALL"] },
        { RedisUsers.Gateway, ["CONFIG", "GET", "*"] },
        { RedisUsers.Gateway, ["ACL", "LIST"] },

        // The operator writes routes: it cannot wipe them, touch activity, or listen in.
        { RedisUsers.Operator, ["DEL", "hosts"] },
        { RedisUsers.Operator, ["ZADD", "activity", "1", "ws-a"] },
        { RedisUsers.Operator, ["ZRANGEBYSCORE", "activity", "0", "+inf"] },
        { RedisUsers.Operator, ["SUBSCRIBE", "routes:changed"] },
        { RedisUsers.Operator, ["PUBLISH", "routes:changed:probe:0f3c", "1"] },
        { RedisUsers.Operator, ["HSET", "sessions", "x", "y"] },
        { RedisUsers.Operator, ["KEYS", "*"] },
        { RedisUsers.Operator, ["CONFIG", "SET", "requirepass", ""] },
        { RedisUsers.Operator, ["ACL", "SETUSER", "default", "on", "nopass", "+@all", "~*"] },

        // The web API reads activity: no routes, no announcements, no made-up use.
        { RedisUsers.WebApi, ["HGET", "hosts", "ws-a"] },
        { RedisUsers.WebApi, ["HSET", "hosts", "ws-victim", "10.66.6.6:9999"] },
        { RedisUsers.WebApi, ["PUBLISH", "routes:changed", "ws-a"] },
        { RedisUsers.WebApi, ["ZADD", "activity", "1", "ws-a"] },
        { RedisUsers.WebApi, ["DEL", "activity"] },
        { RedisUsers.WebApi, ["FLUSHDB"] },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public async Task A_programs_user_may_run_what_that_program_runs(string user, string[] command)
    {
        await using var connection = await SignedInAsync(user);
        var reply = await connection.SendAsync(command);
        Assert.False(reply.StartsWith('-'), $"{user}: {string.Join(' ', command)} answered {reply}");
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_programs_user_may_run_nothing_another_program_runs(string user, string[] command)
    {
        await using var connection = await SignedInAsync(user);
        var reply = await connection.SendAsync(command);
        Assert.StartsWith("-NOPERM", reply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_connection_without_a_password_may_run_nothing_and_a_wrong_one_signs_in_no_one()
    {
        await using var shell = await RespConnection.OpenAsync(_redis.Port);
        foreach (var command in new[] { new[] { "PING" }, ["HGET", "hosts", "ws-a"], ["HSET", "hosts", "ws-victim", "10.66.6.6:9999"], ["PUBLISH", "routes:changed", "*"], ["DEL", "hosts"] })
        {
            Assert.StartsWith("-NOAUTH", await shell.SendAsync(command), StringComparison.Ordinal);
        }

        Assert.StartsWith("-WRONGPASS", await shell.SendAsync("AUTH", RedisUsers.Operator, "guessed"), StringComparison.Ordinal);
        Assert.StartsWith("-WRONGPASS", await shell.SendAsync("AUTH", "default", ""), StringComparison.Ordinal);
        Assert.StartsWith("-WRONGPASS", await shell.SendAsync("AUTH", RedisUsers.Gateway, _users.Password(RedisUsers.Operator)), StringComparison.Ordinal);

        // Nothing of what the shell tried was done.
        using var admin = _redis.Connect();
        Assert.Null(await admin.ExecuteAsync("HGET", "hosts", "ws-victim"));
    }

    [Fact]
    public async Task The_file_Redis_loads_holds_each_password_hashed_never_in_clear()
    {
        var lines = await File.ReadAllLinesAsync(_users.AclFile);
        foreach (var user in new[] { RedisUsers.Gateway, RedisUsers.Operator, RedisUsers.WebApi, RedisUsers.Admin })
        {
            var password = _users.Password(user);
            var line = Assert.Single(lines, l => l.StartsWith($"user {user} ", StringComparison.Ordinal));
            Assert.DoesNotContain(password, line, StringComparison.Ordinal);
            Assert.EndsWith(" #" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password))), line, StringComparison.Ordinal);
        }

        Assert.Equal("user default off resetpass resetkeys resetchannels -@all", Assert.Single(lines, l => l.StartsWith("user default ", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_rules_name_the_keys_and_channels_the_shipped_settings_name()
    {
        static JsonNode Setting(string file, string path) =>
            path.Split(':').Aggregate(JsonNode.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "config", file)))!, (node, key) => node[key]!);

        var rules = (await File.ReadAllLinesAsync(_users.RulesFile)).Where(line => line.StartsWith("user ", StringComparison.Ordinal)).ToDictionary(line => line.Split(' ')[1]);
        var hosts = Setting("gateway.json", "Gateway:Routes:HashKey").GetValue<string>();
        var shares = Setting("gateway.json", "Gateway:Routes:SharesHashKey").GetValue<string>();
        var channel = Setting("gateway.json", "Gateway:Routes:InvalidationChannel").GetValue<string>();
        var activity = Setting("gateway.json", "Gateway:Activity:Key").GetValue<string>();
        Assert.Equal(hosts, Setting("operator.json", "Operator:Routes:HashKey").GetValue<string>());
        Assert.Equal(shares, Setting("operator.json", "Operator:Routes:SharesHashKey").GetValue<string>());
        Assert.Equal(channel, Setting("operator.json", "Operator:Routes:InvalidationChannel").GetValue<string>());
        Assert.Equal(activity, Setting("webapi.json", "WebApi:IdleStop:ActivityKey").GetValue<string>());

        static IEnumerable<string> KeysAndChannels(string rule) => rule.Split(' ').Where(token => token[0] is '%' or '~' or '&');
        var gateway = rules[RedisUsers.Gateway];
        var selector = gateway.IndexOf(" (", StringComparison.Ordinal);
        Assert.Equal(["%R~" + hosts, "%R~" + shares, "%W~" + activity, "&" + channel, $"&{channel}:probe:*"], KeysAndChannels(gateway[..selector]));
        Assert.Equal($" (+publish &{channel}:probe:*)", gateway[selector..]);
        Assert.Equal(["~" + hosts, "~" + shares, "&" + channel], KeysAndChannels(rules[RedisUsers.Operator]));
        Assert.Equal(["~" + activity], KeysAndChannels(rules[RedisUsers.WebApi]));
    }

    [Fact]
    public async Task A_password_is_rotated_with_both_accepted_in_between_and_connections_kept()
    {
        await using var before = await SignedInAsync(RedisUsers.Gateway);
        var old = _users.Password(RedisUsers.Gateway);
        var next = RedisUsers.NewPassword();

        _users.SetPasswords(RedisUsers.Gateway, old, next);
        _users.Sync(_redis.Port);
        Assert.Equal("+OK", await SignInAsync(RedisUsers.Gateway, old));
        Assert.Equal("+OK", await SignInAsync(RedisUsers.Gateway, next));

        _users.SetPasswords(RedisUsers.Gateway, next);
        _users.Sync(_redis.Port);
        Assert.StartsWith("-WRONGPASS", await SignInAsync(RedisUsers.Gateway, old), StringComparison.Ordinal);
        Assert.Equal("+OK", await SignInAsync(RedisUsers.Gateway, next));

        // Signed in before the rotation, still signed in with the same rights (ACL LOAD would have closed it).
        Assert.Equal("(nil)", await before.SendAsync("HGET", "hosts", "ws-a"));
        Assert.StartsWith("-NOPERM", await before.SendAsync("HSET", "hosts", "ws-a", "x"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_whose_password_file_is_missing_keeps_its_passwords_through_a_sync()
    {
        var password = _users.Password(RedisUsers.WebApi);
        File.Delete(_users.PasswordFile(RedisUsers.WebApi));
        _users.Sync(_redis.Port);
        Assert.Equal("+OK", await SignInAsync(RedisUsers.WebApi, password));
    }

    private async Task<string> SignInAsync(string user, string password)
    {
        await using var connection = await RespConnection.OpenAsync(_redis.Port);
        return await connection.SendAsync("AUTH", user, password);
    }

    private async Task<RespConnection> SignedInAsync(string user)
    {
        var connection = await RespConnection.OpenAsync(_redis.Port);
        Assert.Equal("+OK", await connection.SendAsync("AUTH", user, _users.Password(user)));
        return connection;
    }

    public Task InitializeAsync() => _redis.InitializeAsync();

    public async Task DisposeAsync()
    {
        await _redis.DisposeAsync();
        _users.Delete();
    }
}
