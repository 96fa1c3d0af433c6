using CSRedis;

namespace Gateway.Routing;

/// <summary>
/// Creates CSRedisCore clients. StackExchange.Redis cannot be restored here (../shared/PACKAGES.md), so
/// CSRedisCore stays behind <see cref="IRouteStore"/> and <see cref="RouteInvalidationListener"/>.
/// </summary>
internal static class RedisConnectionFactory
{
    // Without these CSRedisCore opens its whole pool at construction (seconds) and waits up to ~12 s
    // for a hung server; our own timeouts bound lookups anyway.
    private static readonly (string Key, string Value)[] Defaults =
    [
        ("preheat", "false"),
        ("connectTimeout", "1000"),
        ("syncTimeout", "1000"),
        ("poolsize", "32"),
    ];

    public static CSRedisClient Create(string configuration) => new(WithDefaults(configuration));

    /// <summary>Appends our defaults for the options the operator did not set.</summary>
    public static string WithDefaults(string configuration)
    {
        var result = configuration.Trim();
        foreach (var (key, value) in Defaults)
        {
            if (!result.Contains(key + "=", StringComparison.OrdinalIgnoreCase))
            {
                result += "," + key + "=" + value;
            }
        }

        return result;
    }
}
