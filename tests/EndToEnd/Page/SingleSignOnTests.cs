using System.Text.RegularExpressions;
using EndToEnd.Infrastructure;
using Microsoft.Playwright;

namespace EndToEnd.Page;

/// <summary>
/// Single sign-on as a person of an organisation does it, in headless Chromium through the whole redirect flow
/// (page → the OpenID Connect provider's sign-in page → back with a code, redeemed with PKCE): signed in, a
/// workspace created and opened through the gateway; the same person again is the same account. Refused as
/// they should be: someone outside the allowed domain or group, a cancel at the provider, an altered state,
/// a lost nonce, an ID token made for another application. Never a 500.
/// </summary>
public sealed class SingleSignOnTests(SingleSignOnPlatform platform, HeadlessChromium chromium) : IClassFixture<SingleSignOnPlatform>, IClassFixture<HeadlessChromium>
{
    [Fact]
    public async Task A_person_of_the_organisation_signs_in_through_the_provider_and_opens_a_workspace()
    {
        platform.Provider.People["ada"] = new ProviderPerson("ada-subject-0001", "ada@example.test", "ada.lovelace", true, "developers");
        var (context, page, failures) = await NewBrowserAsync();
        await using (context)
        {
            await page.GotoAsync("/");
            await SignInAtProviderAsync(page, "ada");
            await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("ada-lovelace");
            await HeadlessChromium.ScreenshotAsync(page, "sso-signed-in.png", fullPage: true);

            // The provider vouched for the address: no code to enter.
            await Assertions.Expect(page.Locator("#verify-form")).ToBeHiddenAsync();
            var create = page.Locator("#create-form");
            await create.GetByLabel("Name").FillAsync("through sso");
            await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
            var row = page.Locator("#workspaces .workspace", new() { HasText = "through sso" });
            await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
            var opened = await context.RunAndWaitForPageAsync(() => row.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync(), new() { Timeout = 15_000 });
            await opened.WaitForLoadStateAsync();
            await Assertions.Expect(opened.Locator("h1")).ToContainTextAsync("Editor for");
            Assert.StartsWith(platform.Gateway.Address.ToString().TrimEnd('/') + "/ws/ws-", opened.Url, StringComparison.Ordinal);
        }

        // Another browser, the same person: the same account, by the provider's subject.
        var (again, secondPage, moreFailures) = await NewBrowserAsync();
        await using (again)
        {
            await secondPage.GotoAsync("/");
            await SignInAtProviderAsync(secondPage, "ada");
            await Assertions.Expect(secondPage.Locator("#workspaces .workspace", new() { HasText = "through sso" })).ToHaveCountAsync(1);
        }

        Assert.Empty(failures);
        Assert.Empty(moreFailures);
    }

    [Fact]
    public async Task People_the_organisation_does_not_allow_and_answers_that_cannot_be_trusted_are_turned_away_with_the_reason()
    {
        platform.Provider.People["mallory"] = new ProviderPerson("mallory-subject", "mallory@elsewhere.test", "mallory", true, "developers");
        platform.Provider.People["bob"] = new ProviderPerson("bob-subject", "bob@example.test", "bob", true, "sales");
        platform.Provider.People["grace"] = new ProviderPerson("grace-subject", "grace@example.test", "grace", true, "developers");

        await RefusedAsync(page => SignInAtProviderAsync(page, "mallory"), "Accounts of your e-mail domain may not use this platform.");
        await RefusedAsync(page => SignInAtProviderAsync(page, "bob"), "Your account is in no group allowed to use this platform; ask your administrator.");
        await RefusedAsync(
            async page =>
            {
                await page.GetByRole(AriaRole.Link, new() { Name = $"Sign in with {SingleSignOnPlatform.ProviderName}" }).ClickAsync();
                await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
            },
            $"Signing in with {SingleSignOnPlatform.ProviderName} was cancelled there.");

        var failed = $"Signing in with {SingleSignOnPlatform.ProviderName} did not complete: its answer could not be checked (an old or altered sign-in). Try again.";

        // The state the page's sign-in sent, altered on its way back.
        await RefusedAsync(
            async page =>
            {
                // The provider's redirect back is answered here with its state altered (a redirect itself cannot be
                // routed: Playwright routes the request that was made, not where it was sent).
                await page.RouteAsync(new Regex("/connect/authorize$"), async route =>
                {
                    if (route.Request.Method != "POST")
                    {
                        await route.ContinueAsync();
                        return;
                    }

                    var answer = await route.FetchAsync(new() { MaxRedirects = 0 });
                    var back = Regex.Replace(answer.Headers["location"], "state=([^&]{10})", "state=AAAAAAAAAA");
                    Assert.Contains("state=AAAAAAAAAA", back, StringComparison.Ordinal);
                    await route.FulfillAsync(new() { Status = 302, Headers = new Dictionary<string, string> { ["Location"] = back } });
                });
                await SignInAtProviderAsync(page, "grace");
            },
            failed);

        // The nonce cookie gone before the answer comes back (another browser's answer replayed into this one).
        await RefusedAsync(
            async page =>
            {
                await page.GetByRole(AriaRole.Link, new() { Name = $"Sign in with {SingleSignOnPlatform.ProviderName}" }).ClickAsync();
                var nonces = (await page.Context.CookiesAsync()).Where(c => c.Name.StartsWith(".AspNetCore.OpenIdConnect.Nonce", StringComparison.Ordinal)).ToList();
                Assert.NotEmpty(nonces);
                foreach (var nonce in nonces)
                {
                    await page.Context.ClearCookiesAsync(new() { Name = nonce.Name });
                }

                await page.GetByLabel("Account").FillAsync("grace");
                await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
            },
            failed);

        // An ID token the provider made for another application.
        platform.Provider.IdTokenAudience = "another-application";
        try
        {
            await RefusedAsync(page => SignInAtProviderAsync(page, "grace"), failed);
        }
        finally
        {
            platform.Provider.IdTokenAudience = null;
        }

        // None of that left an account behind; grace, untouched, gets in.
        var (context, page, failures) = await NewBrowserAsync();
        await using (context)
        {
            await page.GotoAsync("/");
            await SignInAtProviderAsync(page, "grace");
            await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("grace");
            Assert.Empty(failures);
        }
    }

    private async Task RefusedAsync(Func<IPage, Task> attempt, string reason)
    {
        var (context, page, failures) = await NewBrowserAsync();
        await using (context)
        {
            await page.GotoAsync("/");
            await attempt(page);
            await Assertions.Expect(page.Locator("#error")).ToHaveTextAsync(reason);
            await Assertions.Expect(page.Locator("#login-form")).ToBeVisibleAsync();
            Assert.DoesNotContain("sso_error", page.Url, StringComparison.Ordinal);
            await using var me = await context.APIRequest.GetAsync("/api/accounts/me");
            Assert.Equal(401, me.Status);
            Assert.Empty(failures);
        }
    }

    private static async Task SignInAtProviderAsync(IPage page, string account)
    {
        await page.GetByRole(AriaRole.Link, new() { Name = $"Sign in with {SingleSignOnPlatform.ProviderName}" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Test provider" })).ToBeVisibleAsync();
        await page.GetByLabel("Account").FillAsync(account);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>A fresh browser on the page, recording every answer of 500 or more (there must be none).</summary>
    private async Task<(IBrowserContext Context, IPage Page, List<string> Failures)> NewBrowserAsync()
    {
        var context = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Page.ToString() });
        var page = await context.NewPageAsync();
        var failures = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status >= 500)
            {
                failures.Add($"{response.Status} {response.Request.Method} {response.Url}");
            }
        };
        page.PageError += (_, error) => failures.Add(error);
        return (context, page, failures);
    }
}
