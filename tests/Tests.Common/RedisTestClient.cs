using System.Globalization;
using StackExchange.Redis;

namespace Tests.Common;

/// <summary>
/// Plays the part of the route writers (web API, operator, redis-cli) with StackExchange.Redis: it sends
/// exactly the commands the contract names (HSET, HDEL, a bare PUBLISH) and reads what the tests check.
/// </summary>
public sealed class RedisTestClient : IDisposable
{
    private readonly ConnectionMultiplexer _redis;
    private readonly IDatabase _database;

    /// <summary>One route lookup: <c>HGET hosts</c> and <c>HGET shares</c>, sent together in one round trip.</summary>
    public const int HGetsPerLookup = 2;

    public RedisTestClient(string configuration, string? trustedAuthorityFile = null)
    {
        // The programs' own settings (reconnects every 250 ms, Sentinel included), except that it fails at
        // once when the server is not there: RedisServer waits for it with this.
        var options = ServiceDefaults.Redis.RedisConfiguration.Parse(configuration, "tests");
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 2000;
        options.AllowAdmin = true;
        if (trustedAuthorityFile is not null)
        {
            options.TrustIssuer(trustedAuthorityFile);
        }

        _redis = ConnectionMultiplexer.Connect(options);
        _database = _redis.GetDatabase();
    }

    public Task SetRouteAsync(string sid, string address) => _database.HashSetAsync("hosts", sid, address);

    public Task RemoveRouteAsync(string sid) => _database.HashDeleteAsync("hosts", sid);

    public Task SetSharesAsync(string sid, string shares) => _database.HashSetAsync("shares", sid, shares);


    public Task PublishAsync(string message) => _database.PublishAsync(RedisChannel.Literal("routes:changed"), message);

    /// <summary>How many HGET commands the server has executed, from INFO commandstats.</summary>
    public async Task<long> HGetCallsAsync()
    {
        var info = (string?)await _database.ExecuteAsync("INFO", "commandstats") ?? "";
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith("cmdstat_hget:calls=", StringComparison.Ordinal))
            {
                var calls = line["cmdstat_hget:calls=".Length..];
                return long.Parse(calls[..calls.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Any command; the answer as a string, a number or null.</summary>
    public async Task<object?> ExecuteAsync(string command, params object[] args)
    {
        var result = await _database.ExecuteAsync(command, args);
        return result.IsNull ? null
            : result.Resp2Type == ResultType.Integer ? (long)result
            : (object?)(string?)result;
    }

    public void Dispose() => _redis.Dispose();
}
