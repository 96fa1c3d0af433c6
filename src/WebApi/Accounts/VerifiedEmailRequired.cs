using Microsoft.Extensions.Options;
using WebApi.Configuration;

namespace WebApi.Accounts;

/// <summary>
/// Refuses what an account may only do once its address is verified (create or start a workspace), with the
/// reason and what to do, rather than a bare 403.
/// </summary>
internal sealed class VerifiedEmailRequired(IOptions<WebApiOptions> options) : IEndpointFilter
{
    public const string Code = "email_not_verified";

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        !options.Value.Accounts.RequireVerifiedEmail || context.HttpContext.User.HasVerifiedEmail()
            ? next(context)
            : ValueTask.FromResult<object?>(Problems.Of(
                StatusCodes.Status403Forbidden,
                Code,
                "Verify your e-mail address first: enter the code we sent you, or send a new one."));
}
