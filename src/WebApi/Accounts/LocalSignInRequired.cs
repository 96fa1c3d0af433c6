using Microsoft.Extensions.Options;
using WebApi.Configuration;

namespace WebApi.Accounts;

/// <summary>Refuses password registration, sign-in and resets where the organisation's provider is the only way in.</summary>
internal sealed class LocalSignInRequired(IOptions<WebApiOptions> options) : IEndpointFilter
{
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        options.Value.Accounts.LocalSignIn
            ? next(context)
            : ValueTask.FromResult<object?>(Problems.Of(
                StatusCodes.Status403Forbidden,
                "local_sign_in_off",
                $"Passwords are not used here: sign in with {options.Value.Sso.DisplayName}."));
}
