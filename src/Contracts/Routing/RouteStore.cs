namespace Contracts.Routing;

/// <summary>
/// Where the programs meet in Redis, by default (each program may be configured otherwise, and then all three
/// must agree). The first two are the old platform's contract, kept: <c>HGET hosts &lt;sid&gt;</c> answers
/// <c>"ip:port"</c>, and a writer publishes the sid (or <c>*</c>) on the channel after changing it.
/// </summary>
public static class RouteStore
{
    /// <summary>Hash: sid → the editor's <c>"host:port"</c> (or <c>unix:&lt;path&gt;</c> on one machine). The operator writes it, the gateway reads it.</summary>
    public const string HostsKey = "hosts";

    /// <summary>Channel: a sid, or <c>*</c>, after <see cref="HostsKey"/> or <see cref="SharesKey"/> changed.</summary>
    public const string InvalidationChannel = "routes:changed";

    /// <summary>Hash: sid → its ports' sharing levels (<c>"3000=public,8080=authenticated"</c>). The operator writes it, the gateway reads it.</summary>
    public const string SharesKey = "shares";

    /// <summary>Sorted set: member = sid, score = unix seconds of its last use. The gateway writes it, the web API's idle stop reads it.</summary>
    public const string ActivityKey = "activity";
}
