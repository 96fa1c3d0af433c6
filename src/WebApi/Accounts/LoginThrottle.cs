using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using WebApi.Configuration;

namespace WebApi.Accounts;

/// <summary>
/// Caps log-in attempts per user name and per client address (fixed windows of a minute), so one account
/// cannot be guessed at quickly from many addresses, nor many accounts from one. The address allowance is
/// larger: many users can share one address (an office behind NAT).
/// </summary>
internal sealed class LoginThrottle : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter;

    public LoginThrottle(IOptions<WebApiOptions> options)
    {
        var accounts = options.Value.Accounts;
        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetFixedWindowLimiter(
            key,
            key => new FixedWindowRateLimiterOptions
            {
                PermitLimit = key.StartsWith("ip:", StringComparison.Ordinal) ? accounts.LoginAttemptsPerAddressPerMinute : accounts.LoginAttemptsPerMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            }));
    }

    /// <summary>True when both the name and the address still have attempts left this minute.</summary>
    public bool TryAttempt(string? clientAddress, string userName)
    {
        using var byAddress = _limiter.AttemptAcquire("ip:" + (clientAddress ?? "unknown"));
        using var byName = _limiter.AttemptAcquire("user:" + userName.ToUpperInvariant());
        return byAddress.IsAcquired && byName.IsAcquired;
    }

    public void Dispose() => _limiter.Dispose();
}
