using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Accounts;

/// <summary>
/// What the page learns about signing in, and the two ends of single sign-on the API answers alone: a provider
/// that cannot be reached (a sentence on the page, not a 500) and an installation whose only way in is the provider.
/// </summary>
public sealed class SignInOptionsTests
{
    [Fact]
    public async Task A_provider_that_cannot_be_reached_sends_the_browser_back_to_the_page_with_the_reason()
    {
        await using var webApi = WithProvider(new WebApiAlone(), $"http://127.0.0.1:{FreePort.Next()}/");
        await webApi.InitializeAsync();
        using var browser = webApi.NewClient();

        using var start = await browser.GetAsync("/api/accounts/sso?returnTo=%2Fws%2Fws-abc%2F");
        // Followed by the client (as a browser would): the page, with the reason's code.
        Assert.Equal(HttpStatusCode.OK, start.StatusCode);
        Assert.Equal("/?sso_error=provider_unreachable", start.RequestMessage!.RequestUri!.PathAndQuery);

        var options = (await browser.GetFromJsonAsync<Options>("/api/accounts/sign-in?error=provider_unreachable"))!;
        Assert.True(options.Local);
        Assert.Equal("Test provider", options.Sso);
        Assert.Equal("Test provider cannot be reached just now; try again in a moment.", options.Error);

        // Only the API's own sentences: a code it does not know shows nothing.
        Assert.Null((await browser.GetFromJsonAsync<Options>("/api/accounts/sign-in?error=Your%20account%20is%20locked"))!.Error);
    }

    [Fact]
    public async Task Without_single_sign_on_the_page_offers_passwords_only()
    {
        await using var webApi = new WebApiAlone();
        await webApi.InitializeAsync();
        using var browser = webApi.NewClient();
        var options = (await browser.GetFromJsonAsync<Options>("/api/accounts/sign-in"))!;
        Assert.Equal(new Options(true, null, null), options);
        using var start = await browser.GetAsync("/api/accounts/sso");
        Assert.Equal(HttpStatusCode.NotFound, start.StatusCode);
    }

    [Fact]
    public async Task With_local_sign_in_off_passwords_are_refused_with_where_to_sign_in()
    {
        await using var webApi = WithProvider(new WebApiAlone(), $"http://127.0.0.1:{FreePort.Next()}/").With("WebApi:Accounts:LocalSignIn", "false");
        await webApi.InitializeAsync();
        using var browser = webApi.NewClient();
        Assert.False((await browser.GetFromJsonAsync<Options>("/api/accounts/sign-in"))!.Local);

        foreach (var (path, body) in new (string, object)[]
        {
            ("/api/accounts/register", new { userName = "local", email = "local@example.test", password = "correct horse battery" }),
            ("/api/accounts/login", new { userName = "local", password = "correct horse battery" }),
            ("/api/accounts/password/forgot", new { email = "local@example.test" }),
            ("/api/accounts/password/reset", new { token = "1.abc", password = "correct horse battery" }),
        })
        {
            using var refused = await browser.PostAsJsonAsync(path, body);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            var problem = (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!;
            Assert.Equal("local_sign_in_off", problem.Title);
            Assert.Equal("Passwords are not used here: sign in with Test provider.", problem.Detail);
        }
    }

    internal static WebApiAlone WithProvider(WebApiAlone webApi, string authority) => webApi
        .With("WebApi:Sso:Authority", authority)
        .With("WebApi:Sso:ClientId", "cloud-ide")
        .With("WebApi:Sso:DisplayName", "Test provider")
        .With("WebApi:Sso:RequireHttpsMetadata", "false")
        .With("WebApi:PublicUrl", "http://ide.test/");

    private sealed record Options(bool Local, string? Sso, string? Error);
}
