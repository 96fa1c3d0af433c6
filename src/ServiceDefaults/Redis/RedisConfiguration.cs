using StackExchange.Redis;

namespace ServiceDefaults.Redis;

/// <summary>
/// Reads a program's Redis setting: a StackExchange.Redis configuration string (<c>host:port,password=...</c>,
/// several endpoints, or Sentinel's <c>sentinel-a:26379,sentinel-b:26379,serviceName=mymaster</c>), with the
/// behaviour every program here needs put on top.
/// </summary>
public static class RedisConfiguration
{
    // Options CSRedisCore took that StackExchange.Redis does not: its connection pool and warm-up have no
    // counterpart in one multiplexed connection. Named in the error, so an old setting is easy to mend.
    private static readonly string[] CsRedisCoreOptions = ["poolsize", "preheat", "idleTimeout", "autoDispose", "testcluster", "writeBuffer", "tryit", "prefix"];

    /// <summary>How often a lost connection is retried; also the multiplexer's heartbeat, which drives those retries.</summary>
    public static readonly TimeSpan ReconnectInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The parsed options, or an error sentence naming what is wrong (for start-up validation).</summary>
    public static bool TryParse(string? configuration, string clientName, out ConfigurationOptions? options, out string? error)
    {
        options = null;
        if (string.IsNullOrWhiteSpace(configuration))
        {
            error = "is empty; expected a StackExchange.Redis configuration string such as 127.0.0.1:6379";
            return false;
        }

        var legacy = CsRedisCoreOptions.FirstOrDefault(key => HasOption(configuration, key));
        if (legacy is not null)
        {
            error = $"'{legacy}' is a CSRedisCore option; the setting is a StackExchange.Redis configuration string now (one multiplexed connection, no pool): remove it";
            return false;
        }

        try
        {
            options = ConfigurationOptions.Parse(configuration);
        }
        catch (ArgumentException ex)
        {
            error = ex.Message;
            return false;
        }

        if (options.EndPoints.Count == 0)
        {
            error = "names no host:port";
            options = null;
            return false;
        }

        ApplyDefaults(options, configuration, clientName);
        error = null;
        return true;
    }

    public static ConfigurationOptions Parse(string configuration, string clientName) =>
        TryParse(configuration, clientName, out var options, out var error)
            ? options!
            : throw new ArgumentException($"Redis configuration {error}", nameof(configuration));

    /// <summary>
    /// The options a program connects with: its configuration string, its ACL user, the password read from
    /// its file now (<see cref="RedisConnectionMonitor"/> keeps it current) and the CA its TLS trusts.
    /// </summary>
    public static ConfigurationOptions Create(RedisConnectionOptions settings, string clientName)
    {
        var options = Parse(settings.Configuration, clientName);
        if (!string.IsNullOrEmpty(settings.User))
        {
            options.User = settings.User;
        }

        if (!string.IsNullOrEmpty(settings.PasswordFile))
        {
            options.Password = settings.ReadPassword();
        }

        if (!string.IsNullOrEmpty(settings.TlsCaFile) && settings.ReadCertificateAuthority() is { } authority)
        {
            // The chain must end at this CA; the host name is still checked against the certificate.
            options.TrustIssuer(authority);
        }

        return options;
    }

    private static void ApplyDefaults(ConfigurationOptions options, string configuration, string clientName)
    {
        // Every program starts and serves what it can while Redis is away; the multiplexer keeps connecting.
        options.AbortOnConnectFail = false;

        // Recovery within a second of Redis returning: the library's default (1-s heartbeat, exponential
        // back-off from half the connect timeout) took 1-5 s. Retries are cheap: one connect per interval.
        options.HeartbeatInterval = ReconnectInterval;
        options.ReconnectRetryPolicy = new LinearRetry((int)ReconnectInterval.TotalMilliseconds);

        // A command issued while disconnected fails at once instead of waiting in a backlog for the async
        // timeout: every caller here has its own bound and a fallback (a cached route, the next round).
        options.BacklogPolicy = BacklogPolicy.FailFast;

        // Seconds-long library defaults, when the setting does not choose: a hung server must not hold an
        // abandoned command (or a start-up connect) for long.
        if (!HasOption(configuration, "connectTimeout"))
        {
            options.ConnectTimeout = 1000;
        }

        if (!HasOption(configuration, "asyncTimeout") && !HasOption(configuration, "syncTimeout"))
        {
            options.AsyncTimeout = 1000;
            options.SyncTimeout = 1000;
        }

        // Nothing the library sends on its own may need a right the programs' Redis users do not have
        // (config/redis-users.acl): each refusal would land in the server's ACL LOG, where an operator looks
        // for a shell that tried something. The tie-breaker key and the reconfiguration channel serve
        // several primaries configured by hand (Sentinel does that job here); CONFIG and CLUSTER only
        // probe server settings and cluster topology (standalone or Sentinel-managed servers only); CLIENT
        // SETINFO is Redis 7.2's and unknown to the 7.0 ACL parser, so it could not be granted everywhere.
        options.TieBreaker = "";
        options.ConfigurationChannel = "";
        options.SetClientLibrary = false;
        options.CommandMap = CommandMap.Create(["CONFIG", "CLUSTER"], available: false);

        if (string.IsNullOrEmpty(options.ClientName))
        {
            // CLIENT LIST then tells which program holds a connection.
            options.ClientName = clientName;
        }
    }

    private static bool HasOption(string configuration, string key) =>
        configuration.Split(',').Any(part => part.TrimStart().StartsWith(key + "=", StringComparison.OrdinalIgnoreCase));
}
