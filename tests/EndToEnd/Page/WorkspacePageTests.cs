using EndToEnd.Infrastructure;
using Microsoft.Playwright;

namespace EndToEnd.Page;

/// <summary>
/// The web API's page in a real headless Chromium (Debian's), against the platform on loopback: redis-server,
/// the operator's local driver with stand-in editors, the gateway checking tickets, the web API on SQLite.
/// A user registers, creates and starts a workspace, opens it through the gateway in a new tab, stops and
/// deletes it; screenshots are saved as artifacts (bin/.../artifacts).
/// </summary>
public sealed class WorkspacePageTests(Platform platform, HeadlessChromium chromium) : IClassFixture<Platform>, IClassFixture<HeadlessChromium>
{
    [Fact]
    public async Task Register_create_start_open_stop_delete()
    {
        await using var context = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Address.ToString() });
        var page = await context.NewPageAsync();

        // A script error is a defect even when the flow happens to complete (one once broke "Open").
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/");

        await PlatformPage.RegisterAsync(page, "pagetester");
        await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("pagetester");
        await Assertions.Expect(page.Locator("#auth")).ToBeHiddenAsync();

        var create = page.Locator("#create-form");
        await create.GetByLabel("Name").FillAsync("first project");
        await create.GetByLabel("Template").SelectOptionAsync("python");
        await create.GetByLabel("Size").SelectOptionAsync("1C2G5G");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();

        var row = page.Locator("#workspaces .workspace", new() { HasText = "first project" });
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
        await HeadlessChromium.ScreenshotAsync(page, "workspaces-running.png", fullPage: true);

        // Open: a new tab goes to the gateway with a ticket, which turns it into a session and the editor.
        var opened = await context.RunAndWaitForPageAsync(() => row.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync(), new() { Timeout = 15_000 });
        await opened.WaitForLoadStateAsync();
        await Assertions.Expect(opened.Locator("h1")).ToContainTextAsync("Editor for");
        Assert.StartsWith(platform.Gateway.Address.ToString().TrimEnd('/') + "/ws/ws-", opened.Url, StringComparison.Ordinal);
        Assert.DoesNotContain("ticket=", opened.Url, StringComparison.Ordinal);
        await HeadlessChromium.ScreenshotAsync(opened, "stand-in-editor-through-gateway.png");
        await opened.CloseAsync();

        // Delete is only offered once stopped; the API's own rule is checked elsewhere.
        await Assertions.Expect(row.GetByRole(AriaRole.Button, new() { Name = "Delete" })).ToHaveCountAsync(0);
        await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Stopped", new() { Timeout = 30_000 });

        page.Dialog += (_, dialog) => dialog.AcceptAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Assertions.Expect(page.Locator("#empty")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await HeadlessChromium.ScreenshotAsync(page, "workspaces-none-yet.png", fullPage: true);

        // A reload keeps the session (cookie); logging out shows the forms again.
        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("pagetester");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Assertions.Expect(page.Locator("#login-form")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("#app")).ToBeHiddenAsync();
        await HeadlessChromium.ScreenshotAsync(page, "workspaces-empty.png", fullPage: true);
        Assert.Empty(scriptErrors);
    }

    [Fact]
    public async Task A_stopped_workspaces_address_shows_its_owner_the_start_page_which_stops_the_other_one_starts_it_and_lands_there()
    {
        var desktop = new ViewportSize { Width = 1280, Height = 800 };
        var narrow = new ViewportSize { Width = 390, Height = 844 };
        await using var context = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Address.ToString(), ViewportSize = desktop });
        var page = await context.NewPageAsync();
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        await page.GotoAsync("/");
        await PlatformPage.RegisterAsync(page, "startpager");

        var create = page.Locator("#create-form");
        await create.GetByLabel("Name").FillAsync("bookmarked");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        var row = Row(page, "bookmarked");
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
        var sid = (await row.GetAttributeAsync("data-sid"))!;
        await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Stopped", new() { Timeout = 30_000 });
        await Assertions.Expect(row.Locator(".ws-meta")).ToContainTextAsync("stopped just now (stopped by you)");

        // Another one runs meanwhile: only one may.
        await create.GetByLabel("Name").FillAsync("the other one");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Assertions.Expect(Row(page, "the other one").Locator(".state")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
        await page.SetViewportSizeAsync(narrow.Width, narrow.Height);
        await HeadlessChromium.ScreenshotAsync(page, "workspaces-narrow.png", fullPage: true);
        Assert.Equal(narrow.Width, await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"));
        await page.SetViewportSizeAsync(desktop.Width, desktop.Height);

        // The stopped one offers what would work, not a Start that would only be refused.
        await Assertions.Expect(row.GetByRole(AriaRole.Button, new() { Name = "Start", Exact = true })).ToHaveCountAsync(0);
        await Assertions.Expect(row.GetByRole(AriaRole.Button, new() { Name = "Stop “the other one” and start" })).ToBeVisibleAsync();

        // Created with "start now" meanwhile: created, not started, and the reason is said and stays: the page's
        // own refreshes (the first 300 ms after the click, then every second or ten) must not wipe it.
        await create.GetByLabel("Name").FillAsync("third");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        var third = Row(page, "third");
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("'the other one' is running; stop it first");
        await Task.Delay(2500);
        await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("stop it first", new() { Timeout = 100 });
        await Assertions.Expect(third.Locator(".state")).ToHaveTextAsync("Not started yet");
        await Assertions.Expect(third.GetByRole(AriaRole.Button, new() { Name = "Stop “the other one” and start" })).ToBeVisibleAsync();
        await HeadlessChromium.ScreenshotAsync(page, "workspaces-one-running.png", fullPage: true);

        // An editor that answers after two seconds, as code-server does, so the progress can be seen.
        var userData = Directory.CreateDirectory(Path.Combine(platform.WorkspacesDirectory, sid, ".code-server", "data"));
        await File.WriteAllTextAsync(Path.Combine(userData.FullName, "start-delay-ms"), "2000");

        // Where the gateway sends the owner's browser for that address (its own tests check that redirect).
        var address = $"/ws/{sid}/whoami?x=1";
        await page.GotoAsync("/?returnTo=" + Uri.EscapeDataString(address));
        var start = page.Locator("#start-page");
        await Assertions.Expect(start.Locator("#start-name")).ToHaveTextAsync("bookmarked");
        await Assertions.Expect(start.Locator("#start-status")).ToContainTextAsync("Stopped just now (stopped by you)");
        await Assertions.Expect(start.Locator("#start-other")).ToHaveTextAsync("“the other one” is running. One workspace runs at a time.");
        await Assertions.Expect(start.GetByRole(AriaRole.Button, new() { Name = "Start", Exact = true })).ToBeHiddenAsync();
        await HeadlessChromium.ScreenshotAsync(page, "start-page-one-running.png");
        await page.SetViewportSizeAsync(narrow.Width, narrow.Height);
        await HeadlessChromium.ScreenshotAsync(page, "start-page-narrow.png", fullPage: true);
        await page.SetViewportSizeAsync(desktop.Width, desktop.Height);

        // A reload shows the same page again; nothing has started by itself.
        await page.ReloadAsync();
        await Assertions.Expect(start.Locator("#start-other")).ToBeVisibleAsync();
        Assert.Equal("Stopped", await StateAsync(context, sid));

        await start.GetByRole(AriaRole.Button, new() { Name = "Stop “the other one” and start" }).ClickAsync();
        await Assertions.Expect(start.Locator("#start-steps li.current")).ToHaveTextAsync("Editor starting", new() { Timeout = 30_000 });
        await Assertions.Expect(start.Locator("#start-steps li.done")).ToHaveCountAsync(2);
        await HeadlessChromium.ScreenshotAsync(page, "start-page-progress.png");

        // Words a user understands: no probe path on screen while the editor starts.
        Assert.DoesNotContain("/healthz", await start.InnerTextAsync(), StringComparison.Ordinal);

        // Back at the very address, with the ticket traded for the gateway's session.
        await page.WaitForURLAsync($"{platform.Gateway.Address.ToString().TrimEnd('/')}{address}", new() { Timeout = 30_000 });
        Assert.EndsWith(Path.Combine(sid, "workspace"), await page.Locator("body").InnerTextAsync(), StringComparison.Ordinal);

        // The list's own "stop the other and start": the one just started stops, the new one runs.
        await page.GotoAsync("/");
        await third.GetByRole(AriaRole.Button, new() { Name = "Stop “bookmarked” and start" }).ClickAsync();
        await Assertions.Expect(third.Locator(".state")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Stopped");
        Assert.Empty(scriptErrors);
    }

    private static async Task<string> StateAsync(IBrowserContext context, string sid)
    {
        await using var response = await context.APIRequest.GetAsync($"/api/workspaces/{sid}");
        return System.Text.Json.JsonDocument.Parse(await response.TextAsync()).RootElement.GetProperty("state").GetString()!;
    }

    [Fact]
    public async Task Logging_out_while_the_page_still_loads_leaves_nothing_of_that_session_and_the_next_log_in_works_at_once()
    {
        // A busy machine, made certain: the page's first requests after signing in answer 1.5 s late. The page once
        // showed the list beside the log-in form when they landed after a log-out, and a Create sent from it
        // before the next log-in had answered went without a session (401), as one end-to-end run saw.
        await using var context = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Address.ToString() });
        var page = await context.NewPageAsync();
        var refused = new List<string>();
        page.Response += (_, response) =>
        {
            if (response.Status == 401 && !response.Url.EndsWith("/api/accounts/me", StringComparison.Ordinal))
            {
                refused.Add($"{response.Request.Method} {response.Url}");
            }
        };
        await page.RouteAsync("**/api/templates", async route =>
        {
            await Task.Delay(1500);
            await route.ContinueAsync();
        });
        await page.GotoAsync("/");
        await PlatformPage.RegisterAsync(page, "quickleaver");
        await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("quickleaver");
        await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
        await Assertions.Expect(page.Locator("#login-form")).ToBeVisibleAsync();
        await Task.Delay(2500);
        await Assertions.Expect(page.Locator("#app")).ToBeHiddenAsync(new() { Timeout = 100 });
        await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("", new() { Timeout = 100 });
        await Assertions.Expect(page.Locator("#error")).ToBeHiddenAsync(new() { Timeout = 100 });

        await page.UnrouteAllAsync(new() { Behavior = UnrouteBehavior.Wait });
        var login = page.Locator("#login-form");
        await login.GetByLabel("User name").FillAsync("quickleaver");
        await login.GetByLabel("Password").FillAsync(PlatformPage.Password);
        await login.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("quickleaver");
        var create = page.Locator("#create-form");
        await create.GetByLabel("Name").FillAsync("right away");
        await create.GetByLabel("start now").UncheckAsync();
        await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        await Assertions.Expect(Row(page, "right away").Locator(".state")).ToHaveTextAsync("Not started yet");
        Assert.Empty(refused);
    }

    [Fact]
    public async Task The_APIs_reasons_reach_the_user()
    {
        await using var context = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Address.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");

        var login = page.Locator("#login-form");
        await login.GetByLabel("User name").FillAsync("nobody-at-all");
        await login.GetByLabel("Password").FillAsync("wrong password");
        await login.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
        await Assertions.Expect(page.Locator("#error")).ToHaveTextAsync("User name or password is wrong.");

        await PlatformPage.RegisterAsync(page, "twice");
        var create = page.Locator("#create-form");
        foreach (var attempt in new[] { 1, 2 })
        {
            await create.GetByLabel("Name").FillAsync("same name");
            await create.GetByLabel("start now").UncheckAsync();
            await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
            await Assertions.Expect(create.GetByRole(AriaRole.Button, new() { Name = "Create" })).ToBeEnabledAsync();
        }

        await Assertions.Expect(page.Locator("#error")).ToHaveTextAsync("You already have a workspace named 'same name'.");
        await HeadlessChromium.ScreenshotAsync(page, "error-shown.png", fullPage: true);
    }

    [Fact]
    public async Task The_gateways_returnTo_brings_a_signed_in_user_back_to_the_workspace_address()
    {
        await using var context = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Address.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/");
        await PlatformPage.RegisterAsync(page, "returner");
        var create = page.Locator("#create-form");
        await create.GetByLabel("Name").FillAsync("came back");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        var row = page.Locator("#workspaces .workspace", new() { HasText = "came back" });
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
        var sid = await row.GetAttributeAsync("data-sid");

        // What the gateway's LoginUrl redirect looks like: the page opens that very address with a fresh
        // ticket, on the gateway's origin (here another port than the page's), ticket gone after its 303.
        await page.GotoAsync("/?returnTo=" + Uri.EscapeDataString($"/ws/{sid}/whoami?x=1"));
        await page.WaitForURLAsync($"{platform.Gateway.Address.ToString().TrimEnd('/')}/ws/{sid}/whoami?x=1");
        Assert.EndsWith(Path.Combine(sid!, "workspace"), await page.Locator("body").InnerTextAsync(), StringComparison.Ordinal);

        // Anything but a workspace address is not followed, and the parameter is dropped.
        await page.GotoAsync("/?returnTo=" + Uri.EscapeDataString("https://elsewhere.example/ws/x/"));
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running");
        Assert.Equal(new Uri(platform.Address, "/").ToString(), page.Url);

        // Someone else's (or no such) workspace: the API's reason, and the user stays on the page.
        await page.GotoAsync("/?returnTo=" + Uri.EscapeDataString("/ws/ws-not-mine/"));
        await Assertions.Expect(page.Locator("#error")).ToHaveTextAsync("You have no workspace 'ws-not-mine'.");
    }

    /// <summary>The list's row of the workspace named exactly <paramref name="name"/> (another row's button may name it too).</summary>
    private static ILocator Row(IPage page, string name) =>
        page.Locator("#workspaces .workspace", new() { Has = page.Locator(".ws-name", new() { HasTextRegex = new System.Text.RegularExpressions.Regex($"^{System.Text.RegularExpressions.Regex.Escape(name)}$") }) });
}
