using StackExchange.Redis;

namespace ServiceDefaults.Redis;

/// <summary>
/// Turns a command Redis's ACL refused into a sentence an operator can act on: which program's user, which
/// setting names it, which command was refused and where the rights are granted. Every other failure is
/// the caller's own to describe (Redis away, a timeout).
/// </summary>
public sealed class RedisRefusals(RedisSignIn signIn)
{
    /// <summary>The sentence for a refused <paramref name="operation"/> (e.g. <c>ZADD activity</c>), or null when <paramref name="error"/> is no ACL refusal.</summary>
    public string? Explain(Exception error, string operation)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is RedisServerException && e.Message.Contains("NOPERM", StringComparison.Ordinal))
            {
                return $"Redis refused {operation} to user '{signIn.User}' ({signIn.Section}:User): {e.Message}. The Redis ACL (config/redis-users.acl) must grant this program's user that command on that key or channel";
            }
        }

        return null;
    }
}
