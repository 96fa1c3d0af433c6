using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace WebApi.Accounts;

/// <summary>
/// What one client address may ask to be mailed: registrations, resent codes and reset links. Each account has
/// its own limit as well (<see cref="AccountCodes"/>); this one stops a client spreading a flood over many
/// accounts or addresses. Behind the gateway the client's address is the forwarded one.
/// </summary>
public static class AccountMailLimits
{
    public const string PerClient = "account-mail-per-client";

    public static IServiceCollection AddAccountMailLimits(this IServiceCollection services, int perAddressPerMinute) =>
        services.AddRateLimiter(limits =>
        {
            limits.AddPolicy(PerClient, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "",
                _ => new FixedWindowRateLimiterOptions { PermitLimit = perAddressPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0 }));
            limits.OnRejected = async (rejected, cancellationToken) =>
            {
                var response = rejected.HttpContext.Response;
                response.StatusCode = StatusCodes.Status429TooManyRequests;
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }

                await response.WriteAsJsonAsync(
                    new Microsoft.AspNetCore.Mvc.ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests,
                        Title = "too_many_mails",
                        Detail = "Too many mails were asked for from your address; wait a minute and try again.",
                    },
                    options: null,
                    contentType: "application/problem+json",
                    cancellationToken);
            };
        });
}
