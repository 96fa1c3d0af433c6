using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using EndToEnd.Infrastructure;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace EndToEnd.Editor;

/// <summary>
/// The platform as <c>./run.sh</c> brings it up (real code-server 4.139.1 editors, a private
/// Redis, operator, web API, gateway), driven in headless Chromium the way a user works: register, create
/// and start a workspace, work in VS Code through the gateway, keep files across stop and start, reach a
/// dev server through code-server's <c>/proxy/&lt;port&gt;/</c>, be refused another user's workspace, and
/// stop it all with Ctrl-C. Screenshots land in bin/.../artifacts.
/// </summary>
public sealed class RealEditorTests(HeadlessChromium chromium, ITestOutputHelper output) : IClassFixture<HeadlessChromium>
{
    private const string Password = PlatformPage.Password;
    private const string FileText = "hello from the editor, through the gateway";
    private static readonly string[] Programs = ["gateway", "webapi", "operator", "redis"];

    // Every WebSocket's close code and reason, as the page's scripts see them (Playwright reports no reason).
    private const string RecordWebSocketCloses = """
        (() => {
          const Native = window.WebSocket;
          window.__e2eCloses = [];
          window.WebSocket = class extends Native {
            constructor(...args) {
              super(...args);
              this.addEventListener('close', (e) => window.__e2eCloses.push(`${e.code} ${e.reason}`));
            }
          };
        })();
        """;

    [Fact]
    public async Task A_newcomer_runs_the_platform_and_works_in_the_real_editor_through_the_gateway()
    {
        // The old platform's addresses, /ws/<sid>/, which stay for its links; the gateway terminating TLS with a
        // certificate the browser trusts, so the editor runs over HTTP/2 as it would at the edge.
        await using var platform = await RunScript.StartAsync(
            ("WORKSPACE_DOMAIN", ""), ("TLS_CERT_FILE", chromium.Tls.CertificateFile), ("TLS_KEY_FILE", chromium.Tls.KeyFile));
        Assert.Equal(Uri.UriSchemeHttps, platform.Url.Scheme);
        output.WriteLine($"run.sh is up at {platform.Url}");
        var scenario = new Scenario(platform, output);
        var viewport = new ViewportSize { Width = 1400, Height = 900 };
        await using var alice = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Url.ToString(), ViewportSize = viewport });
        scenario.Watch(alice, "alice");
        await alice.AddInitScriptAsync(RecordWebSocketCloses);
        var page = await alice.NewPageAsync();
        ILocator row = null!;
        IPage editor = null!;
        var sid = "";

        await scenario.StepAsync("1. register, create and start a workspace through the page", async () =>
        {
            await page.GotoAsync("/");
            await PlatformPage.RegisterAsync(page, "alice");
            await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("alice");

            // The code the platform mailed, read from run.sh's mail sink: until it is entered, no workspace.
            await PlatformPage.VerifyEmailAsync(page, platform, "alice", screenshot: "verify-email.png");

            // Logged out and in again: the session is the log-in's, not the registration's.
            await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
            var login = page.Locator("#login-form");
            await login.GetByLabel("User name").FillAsync("alice");
            await login.GetByLabel("Password").FillAsync(Password);
            await login.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();
            await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("alice");

            // On one machine no template's versions nor size are promised: the editor uses this machine's tools.
            await Assertions.Expect(page.Locator("#one-machine")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#templates option[value=python]")).ToHaveTextAsync("Python (this machine's tools)");
            await Assertions.Expect(page.Locator("#specs option").First).ToContainTextAsync("(not enforced here)");

            (row, sid) = await CreateAndStartAsync(page, "my project", scenario);
        });

        await scenario.StepAsync("1b. the start's trace is on the dashboard run.sh started: one trace through the gateway, the web API and the operator", async () =>
        {
            var dashboard = platform.DashboardUrl;
            Assert.NotNull(dashboard);
            string[] programs = ["workspace-gateway", "workspace-webapi", "workspace-operator"];
            KeyValuePair<string, List<(string Service, string Span)>> through = default;
            await Eventually.TrueAsync(
                async () =>
                {
                    through = (await platform.DashboardTracesAsync()).FirstOrDefault(trace => programs.All(program => trace.Value.Exists(span => span.Service == program)));
                    return through.Key is not null;
                },
                "a trace with spans of all three programs reaches the dashboard",
                TimeSpan.FromSeconds(60));
            output.WriteLine($"trace {through.Key}: {string.Join(", ", through.Value.Select(span => $"{span.Service}: {span.Span}"))}");

            // A workspace's terminal shares this machine's loopback: without the keys run.sh keeps, the dashboard's
            // telemetry API and its OTLP endpoint refuse (neither reads nor forges telemetry).
            using (var stranger = new HttpClient())
            {
                using var read = await stranger.GetAsync(new Uri($"http://127.0.0.1:{platform.Ports["DASHBOARD_PORT"]}/api/telemetry/traces"));
                using var forge = await stranger.PostAsync(
                    new Uri($"http://127.0.0.1:{platform.Ports["DASHBOARD_OTLP_PORT"]}/v1/traces"),
                    new ByteArrayContent([]) { Headers = { ContentType = new("application/x-protobuf") } });
                Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (read.StatusCode, forge.StatusCode));
            }

            // What a user of run.sh sees: the printed address signs in, and the trace shows the three programs.
            await using var viewer = await chromium.Browser.NewContextAsync(new() { ViewportSize = new ViewportSize { Width = 1600, Height = 900 } });
            var board = await viewer.NewPageAsync();
            await board.GotoAsync(dashboard.ToString());
            await board.GotoAsync(new Uri(dashboard, $"/traces/detail/{through.Key}").ToString());
            foreach (var program in programs)
            {
                await Assertions.Expect(board.GetByText(program).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
            }

            await HeadlessChromium.ScreenshotAsync(board, "dashboard-trace.png");
        });

        await scenario.StepAsync("2. open the editor through the gateway; the workbench connects and shows the folder", async () =>
        {
            var handshakes = new List<int>();
            editor = await OpenEditorAsync(alice, row, new Uri(platform.Url, $"/ws/{sid}/"), scenario, handshakes);
            Assert.DoesNotContain("ticket=", editor.Url, StringComparison.Ordinal);

            // The page and its scripts came over HTTP/2, and the editor's WebSocket rode that connection (RFC 8441:
            // the handshake answered 200 to an extended CONNECT, where HTTP/1.1 answers 101).
            Assert.Equal("h2", await editor.EvaluateAsync<string>("() => performance.getEntriesByType('navigation')[0].nextHopProtocol"));
            Assert.NotEmpty(handshakes);
            Assert.All(handshakes, status => Assert.Equal(200, status));

            // The platform's editor settings (config/editor-settings.json): no chat panel, no AI process per editor.
            await Task.Delay(5000);
            var processes = EditorProcesses(platform, sid);
            output.WriteLine($"idle editor: {processes.Count} processes, {processes.Sum(p => p.RssKiB) / 1024.0:F0} MiB resident: {string.Join(", ", processes.Select(p => $"{p.CommandLine[..Math.Min(60, p.CommandLine.Length)]} {p.RssKiB / 1024} MiB"))}");
            await Assertions.Expect(editor.GetByText("Build with Agent")).ToHaveCountAsync(0);
            Assert.DoesNotContain(processes, p => p.CommandLine.Contains("copilot", StringComparison.OrdinalIgnoreCase));
            await HeadlessChromium.ScreenshotAsync(editor, "real-editor-workbench.png");

            // Where the user is, on the first open: the workspace's name, the folder as the workspace sees it, and
            // where a dev server answers. As root (CI) the editor sees its workspace at /user_data, as on
            // Kubernetes, and no path of this machine shows in its address.
            var welcome = editor.Locator("#cloud-ide-welcome");
            await Assertions.Expect(welcome.GetByRole(AriaRole.Heading)).ToHaveTextAsync("Welcome to “my project”");
            await Assertions.Expect(welcome).ToContainTextAsync($"{platform.Url.ToString().TrimEnd('/')}/ws/{sid}/proxy/3000/");
            var folder = System.Web.HttpUtility.ParseQueryString(new Uri(editor.Url).Query)["folder"];
            await Assertions.Expect(welcome).ToContainTextAsync($"Files in {folder} are kept");
            if (Environment.IsPrivilegedProcess)
            {
                Assert.Equal("/user_data/workspace", folder);
            }

            await HeadlessChromium.ScreenshotAsync(editor, "real-editor-welcome.png");
            await welcome.GetByRole(AriaRole.Button, new() { Name = "Got it" }).ClickAsync();
            await Assertions.Expect(welcome).ToHaveCountAsync(0);
        });

        await scenario.StepAsync("3. create a file; stop the workspace from the page in another tab: the editor says so within 2 s and its one button lands on the start page; Start shows progress and brings the editor back at the same address with the file", async () =>
        {
            var header = editor.Locator(".sidebar .pane-header", new() { HasText = "workspace" });
            await header.HoverAsync();
            await header.GetByRole(AriaRole.Button, new() { Name = "New File..." }).ClickAsync();

            // Into the name box itself: the Welcome tab opening moments after the workbench can take the focus.
            var name = editor.Locator(".explorer-folders-view .monaco-inputbox input");
            await name.FillAsync("hello.txt");
            await name.PressAsync("Enter");
            await Assertions.Expect(editor.Locator(".tab", new() { HasText = "hello.txt" })).ToBeVisibleAsync(new() { Timeout = 60_000 });
            await Assertions.Expect(editor.Locator(".editor-instance .monaco-editor .native-edit-context")).ToBeFocusedAsync(new() { Timeout = 15_000 });
            await editor.Keyboard.TypeAsync(FileText);
            await editor.Keyboard.PressAsync("Control+S");

            // Written by code-server in the workspace's folder, which the local driver keeps across stops.
            var onDisk = Path.Combine(platform.DataDirectory, "workspaces", sid, "workspace", "hello.txt");
            await Eventually.TrueAsync(() => File.Exists(onDisk) && File.ReadAllText(onDisk) == FileText, "hello.txt saved with the typed text", TimeSpan.FromSeconds(15));
            await HeadlessChromium.ScreenshotAsync(editor, "real-editor-file-saved.png");
            var address = editor.Url;

            await page.BringToFrontAsync();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();

            // The editor's tab says so at once, over VS Code (which alone retried silently for half a minute): the
            // gateway's close reason, shown by the platform's script in the page.
            var notice = editor.Locator("#cloud-ide-notice");
            await notice.WaitForAsync(new() { Timeout = 30_000 });
            var noticeAfter = clock.Elapsed;
            output.WriteLine($"the editor showed the stop {noticeAfter.TotalMilliseconds:F0} ms after the click");
            Assert.Contains("1001 The workspace was stopped", await editor.EvaluateAsync<string[]>("() => window.__e2eCloses"));
            await Assertions.Expect(notice.GetByRole(AriaRole.Heading)).ToHaveTextAsync("This workspace was stopped");
            Assert.True(noticeAfter < TimeSpan.FromSeconds(2), $"the editor showed the stop {noticeAfter.TotalSeconds:F1} s after the click");
            await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Stopped", new() { Timeout = 60_000 });
            await using (var stopped = await alice.APIRequest.GetAsync($"/ws/{sid}/"))
            {
                Assert.NotEqual(200, stopped.Status);
            }

            await editor.BringToFrontAsync();
            await ScreenshotWithAddressAsync(editor, "editor-after-stop.png");

            // Its one button: the start page, which starts nothing by itself.
            await notice.GetByRole(AriaRole.Button, new() { Name = "Open the start page" }).ClickAsync();
            await Assertions.Expect(editor.Locator("#start-name")).ToHaveTextAsync("my project", new() { Timeout = 30_000 });
            await Assertions.Expect(editor.Locator("#start-status")).ToContainTextAsync("(stopped by you)");
            await ScreenshotWithAddressAsync(editor, "start-page-after-reload.png");
            await Task.Delay(1000);
            await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Stopped");

            await editor.GetByRole(AriaRole.Button, new() { Name = "Start", Exact = true }).ClickAsync();

            // The operator's step, unless the editor came up within one report (then the page has already left).
            var step = "";
            await Eventually.TrueAsync(
                async () =>
                {
                    try
                    {
                        step = await editor.Locator("#start-steps li.current").TextContentAsync(new() { Timeout = 1000 }) ?? "";
                    }
                    catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
                    {
                        // No current step for a moment: the page is leaving for the editor (or re-rendering).
                        step = "(left)";
                    }

                    return step == "Editor starting" || editor.Url == address;
                },
                "the start page shows the editor starting",
                TimeSpan.FromSeconds(30));
            if (step == "Editor starting")
            {
                // Without the address label: the page may leave for the editor at any moment now.
                await HeadlessChromium.ScreenshotAsync(editor, "start-page-starting.png");
            }

            await editor.WaitForURLAsync(address, new() { Timeout = 120_000 });
            var file = editor.GetByRole(AriaRole.Treeitem, new() { Name = "hello.txt" });
            await Assertions.Expect(file).ToBeVisibleAsync(new() { Timeout = 90_000 });
            await file.ClickAsync();
            await Assertions.Expect(editor.Locator(".editor-instance .view-lines")).ToContainTextAsync(FileText, new() { Timeout = 30_000 });

            // Welcomed once in this browser: not again.
            await Assertions.Expect(editor.Locator("#cloud-ide-welcome")).ToHaveCountAsync(0);

            // The list in the other tab says so too once it is looked at again.
            await page.BringToFrontAsync();
            await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", new() { Timeout = 30_000 });
            await editor.BringToFrontAsync();
        });

        var devPort = FreePort.Next();
        await scenario.StepAsync($"4. start an HTTP server in the workspace's terminal, reach it at /ws/<sid>/proxy/{devPort}/", async () =>
        {
            await StartDevServerAsync(editor, devPort);

            // Until the server listens, code-server's proxy answers 5xx.
            var listing = "";
            await Eventually.TrueAsync(
                async () =>
                {
                    await using var response = await alice.APIRequest.GetAsync($"/ws/{sid}/proxy/{devPort}/");
                    listing = response.Ok ? await response.TextAsync() : $"({response.Status})";
                    return response.Ok;
                },
                "the dev server answers through the gateway",
                TimeSpan.FromSeconds(30));
            Assert.Contains("hello.txt", listing, StringComparison.Ordinal);
            await ScreenshotWithAddressAsync(editor, "real-editor-terminal.png");

            var devPage = await alice.NewPageAsync();
            await devPage.GotoAsync($"/ws/{sid}/proxy/{devPort}/");
            await Assertions.Expect(devPage.GetByRole(AriaRole.Link, new() { Name = "hello.txt" })).ToBeVisibleAsync();
            await HeadlessChromium.ScreenshotAsync(devPage, "dev-server-through-proxy.png");
            await devPage.CloseAsync();
        });

        await scenario.StepAsync("5. an editor reloaded after its gateway session is gone comes back through the page", async () =>
        {
            await alice.ClearCookiesAsync(new() { Name = "gw_session" });
            await editor.ReloadAsync();
            await editor.WaitForURLAsync(url => url.StartsWith(new Uri(platform.Url, $"/ws/{sid}/").ToString(), StringComparison.Ordinal) && !url.Contains("ticket=", StringComparison.Ordinal), new() { Timeout = 30_000 });
            await Assertions.Expect(editor.GetByRole(AriaRole.Treeitem, new() { Name = "hello.txt" })).ToBeVisibleAsync(new() { Timeout = 90_000 });
            Assert.Contains(await alice.CookiesAsync(), c => c.Name == "gw_session" && c.Path == $"/ws/{sid}/");
        });

        var bobSid = "";
        await scenario.StepAsync("6. another user's session cannot open this workspace", async () =>
        {
            await using var bob = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Url.ToString() });
            scenario.Watch(bob, "bob");
            await using (var registered = await bob.APIRequest.PostAsync("/api/accounts/register", new() { DataObject = new { userName = "bob", email = "bob@example.test", password = Password } }))
            {
                Assert.Equal(201, registered.Status);
            }

            var (bobsCode, _) = await PlatformPage.CodeForAsync(platform, "bob");
            await using (var verified = await bob.APIRequest.PostAsync("/api/accounts/verification", new() { DataObject = new { code = bobsCode } }))
            {
                Assert.Equal(200, verified.Status);
            }

            // The web API does not hand out tickets for it...
            await using (var open = await bob.APIRequest.PostAsync($"/api/workspaces/{sid}/open"))
            {
                Assert.Equal(404, open.Status);
            }

            // ...the gateway refuses bob without a credential for it (a page navigation goes to log in)...
            await using (var direct = await bob.APIRequest.GetAsync($"/ws/{sid}/", new() { MaxRedirects = 0 }))
            {
                Assert.Equal(401, direct.Status);
            }

            var bobPage = await bob.NewPageAsync();
            await bobPage.GotoAsync($"/ws/{sid}/");
            Assert.Equal("/", new Uri(bobPage.Url).AbsolutePath);
            await Assertions.Expect(bobPage.Locator("#error")).ToHaveTextAsync($"You have no workspace '{sid}'.");
            await Assertions.Expect(bobPage.Locator(".monaco-workbench")).ToHaveCountAsync(0);

            // ...and with bob's own, valid ticket and session (for his own workspace): 403.
            await using (var created = await bob.APIRequest.PostAsync("/api/workspaces", new() { DataObject = new { name = "bobs project", template = "python", spec = "1C2G5G", start = true }, Timeout = 120_000 }))
            {
                Assert.True(created.Status == 201, $"{created.Status} {await created.TextAsync()}");
                bobSid = JsonDocument.Parse(await created.TextAsync()).RootElement.GetProperty("sid").GetString()!;
                scenario.Involves(bobSid);
            }

            string bobTicketUrl;
            await using (var open = await bob.APIRequest.PostAsync($"/api/workspaces/{bobSid}/open"))
            {
                Assert.Equal(200, open.Status);
                bobTicketUrl = JsonDocument.Parse(await open.TextAsync()).RootElement.GetProperty("url").GetString()!;
            }

            var ticket = bobTicketUrl[(bobTicketUrl.IndexOf("ticket=", StringComparison.Ordinal) + "ticket=".Length)..];
            await using (var foreignTicket = await bob.APIRequest.GetAsync($"/ws/{sid}/?ticket={ticket}", new() { MaxRedirects = 0 }))
            {
                Assert.Equal(403, foreignTicket.Status);
            }

            await using (var ownTicket = await bob.APIRequest.GetAsync(bobTicketUrl, new() { MaxRedirects = 0 }))
            {
                Assert.Equal(303, ownTicket.Status);
            }

            var session = (await bob.CookiesAsync()).Single(c => c.Name == "gw_session");
            Assert.Equal($"/ws/{bobSid}/", session.Path);
            await using (var foreignSession = await bob.APIRequest.GetAsync($"/ws/{sid}/", new() { MaxRedirects = 0, Headers = new Dictionary<string, string> { ["Cookie"] = $"gw_session={session.Value}" } }))
            {
                Assert.Equal(403, foreignSession.Status);
            }

            await using (var ownSession = await bob.APIRequest.GetAsync($"/ws/{bobSid}/healthz"))
            {
                Assert.Equal(200, ownSession.Status);
            }

            // Alice's editor is unaffected.
            await Assertions.Expect(editor.GetByRole(AriaRole.Treeitem, new() { Name = "hello.txt" })).ToBeVisibleAsync();
        });

        await scenario.StepAsync("7. Ctrl-C stops everything run.sh started, in seconds, with the editor and the page still open (their WebSockets and event streams through the gateway) and nothing killed", async () =>
        {
            var editors = new[] { sid, bobSid }.Select(s => int.Parse(File.ReadAllText(Path.Combine(platform.DataDirectory, "workspaces", ".editors", s + ".pid")), CultureInfo.InvariantCulture)).ToList();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            Assert.True(await platform.InterruptAsync(TimeSpan.FromSeconds(60)), "run.sh ended within 60 s of Ctrl-C");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(12), $"run.sh took {clock.Elapsed.TotalSeconds:F1} s after Ctrl-C");
            Assert.DoesNotContain("SIGKILL", platform.Output, StringComparison.Ordinal);
            Assert.Equal(130, platform.ExitCode);
            foreach (var name in Programs)
            {
                Assert.Contains($"{name} stopped", platform.Output, StringComparison.Ordinal);
            }

            foreach (var (setting, port) in platform.Ports)
            {
                Assert.False(Listening(port), $"{setting} {port} is closed");
            }

            Assert.False(Listening(devPort), "the workspace's dev server stopped with its editor");
            Assert.All(editors, pid => Assert.False(Directory.Exists($"/proc/{pid}"), $"editor {pid} is gone"));
        });
    }

    /// <summary>
    /// run.sh's default: each workspace, and each port of it, on its own origin under <c>localhost:&lt;port&gt;</c>
    /// (Chromium resolves every <c>*.localhost</c> name to loopback). The editor opens on its origin; a dev
    /// server started in its terminal is reached on <c>&lt;port&gt;--&lt;sid&gt;</c>; shared publicly from the page,
    /// a browser that never logged in reaches it; made private again, that browser is refused.
    /// </summary>
    [Fact]
    public async Task Each_workspace_and_port_has_its_own_origin_and_a_port_is_shared_on_purpose()
    {
        await using var platform = await RunScript.StartAsync();
        output.WriteLine($"run.sh is up at {platform.Url}");
        var scenario = new Scenario(platform, output);
        await using var alice = await chromium.Browser.NewContextAsync(new() { BaseURL = platform.Url.ToString(), ViewportSize = new ViewportSize { Width = 1400, Height = 900 } });
        scenario.Watch(alice, "alice");
        var page = await alice.NewPageAsync();
        ILocator row = null!;
        IPage editor = null!;
        var sid = "";
        var devPort = FreePort.Next();
        Uri DevServer() => new($"http://{devPort}--{sid}.{platform.Url.Authority}/");

        await scenario.StepAsync("1. the page is on localhost; register, create and start a workspace", async () =>
        {
            Assert.Equal("localhost", platform.Url.Host);
            await page.GotoAsync("/");
            await PlatformPage.RegisterAsync(page, "alice");
            await PlatformPage.VerifyEmailAsync(page, platform, "alice");
            (row, sid) = await CreateAndStartAsync(page, "origins", scenario);
        });

        await scenario.StepAsync("1b. a forgotten password: the link mailed to her sets a new one and signs her in; the old one no longer works", async () =>
        {
            await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Forgot your password?" }).ClickAsync();
            var forgot = page.Locator("#forgot-form");
            await forgot.GetByLabel("E-mail").FillAsync("alice@example.test");
            await forgot.GetByRole(AriaRole.Button, new() { Name = "Send me a link" }).ClickAsync();
            await Assertions.Expect(forgot.Locator("#forgot-sent")).ToContainTextAsync("If an account has that address");

            var mail = await PlatformPage.MailToAsync(platform, "alice@example.test");
            Assert.Equal("Reset your Cloud IDE password", mail.Subject);
            var link = System.Text.RegularExpressions.Regex.Match(mail.TextBody ?? "", @"https?://\S+#reset=\S+").Value;
            Assert.StartsWith(platform.Url.ToString(), link, StringComparison.Ordinal);
            await page.GotoAsync(link);
            var reset = page.Locator("#reset-form");
            await Assertions.Expect(reset).ToBeVisibleAsync();

            // Out of the address at once: not in the history, a bookmark or a screenshot.
            Assert.DoesNotContain("reset=", page.Url, StringComparison.Ordinal);
            await reset.GetByLabel("New password").FillAsync("password");
            await reset.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
            await Assertions.Expect(page.Locator("#error")).ToContainTextAsync("common");
            await reset.GetByLabel("New password").FillAsync("a new passphrase for alice");
            await reset.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
            await Assertions.Expect(page.Locator("#who-name")).ToHaveTextAsync("alice");
            await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running");
            await using var old = await alice.APIRequest.PostAsync("/api/accounts/login", new() { DataObject = new { userName = "alice", password = Password } });
            Assert.Equal(401, old.Status);
        });

        await scenario.StepAsync("2. Open: the editor on its own origin, with a cookie for that host only", async () =>
        {
            var origin = new Uri($"http://{sid}.{platform.Url.Authority}/");
            editor = await OpenEditorAsync(alice, row, origin, scenario);
            Assert.DoesNotContain("ticket=", editor.Url, StringComparison.Ordinal);
            Assert.Contains(await alice.CookiesAsync(), c => c.Name == "gw_session" && c.Domain == origin.Host && c.Path == "/");

            // On its own origin a dev server has an origin of its own, and the welcome says so.
            var welcome = editor.Locator("#cloud-ide-welcome");
            await Assertions.Expect(welcome).ToContainTextAsync($"http://3000--{sid}.{platform.Url.Authority}/");
            await ScreenshotWithAddressAsync(editor, "origin-editor.png");
            await welcome.GetByRole(AriaRole.Button, new() { Name = "Got it" }).ClickAsync();
        });

        IPage devPage = null!;
        await scenario.StepAsync($"3. a dev server started in the terminal, on its own origin {devPort}--<sid>", async () =>
        {
            await StartDevServerAsync(editor, devPort);

            // The owner's first visit there goes through the platform's page for a ticket and comes back
            // (one navigation: a second one would race the page's own).
            devPage = await alice.NewPageAsync();
            await devPage.GotoAsync(DevServer().ToString());
            await devPage.WaitForURLAsync(DevServer().ToString(), new() { Timeout = 30_000 });

            // Until the server listens, code-server's proxy answers 5xx.
            await Eventually.TrueAsync(async () => (await devPage.ReloadAsync())?.Status == 200, "the dev server answers on its origin", TimeSpan.FromSeconds(60));
            await Assertions.Expect(devPage.GetByText("Directory listing for /")).ToBeVisibleAsync(new() { Timeout = 15_000 });
            Assert.Equal(DevServer(), new Uri(devPage.Url));
            await ScreenshotWithAddressAsync(devPage, "origin-dev-server.png");

            // What a user sees (the README's first picture): the editor on its own origin, its terminal serving.
            await editor.BringToFrontAsync();
            await ScreenshotWithAddressAsync(editor, "origin-editor-terminal.png");
        });

        await scenario.StepAsync("4. the page offers the listening port, private, with its address; public only once confirmed, it opens in a browser that never logged in; private again, that browser is refused", async () =>
        {
            await page.BringToFrontAsync();

            // Found by the platform (nothing typed), private until the owner says otherwise, its address shown.
            var port = row.Locator($".port[data-port='{devPort}']");
            await Assertions.Expect(port).ToContainTextAsync("listening", new() { Timeout = 30_000 });
            var level = port.GetByLabel($"Who may open port {devPort}", new() { Exact = true });
            await Assertions.Expect(level).ToHaveValueAsync("private");
            await Assertions.Expect(port.GetByLabel($"Address of port {devPort}", new() { Exact = true })).ToHaveValueAsync(DevServer().ToString());
            await port.GetByRole(AriaRole.Button, new() { Name = $"Copy the address of port {devPort}" }).ClickAsync();
            await Assertions.Expect(port.GetByRole(AriaRole.Button, new() { Name = $"Copy the address of port {devPort}" })).ToHaveTextAsync("Copied");

            // Public asks first; declined, nothing changes.
            string? asked = null;
            var accept = false;
            page.Dialog += async (_, dialog) =>
            {
                asked = dialog.Message;
                await (accept ? dialog.AcceptAsync() : dialog.DismissAsync());
            };
            await level.SelectOptionAsync("public");
            Assert.Contains("Anyone who has its address can open it", asked, StringComparison.Ordinal);
            await Assertions.Expect(level).ToHaveValueAsync("private");
            accept = true;
            await level.SelectOptionAsync("public");
            await Assertions.Expect(row.Locator($".port[data-port='{devPort}']").GetByLabel($"Who may open port {devPort}")).ToHaveValueAsync("public", new() { Timeout = 15_000 });
            await HeadlessChromium.ScreenshotAsync(page, "origin-share-public.png");
            await page.SetViewportSizeAsync(390, 844);
            await HeadlessChromium.ScreenshotAsync(page, "origin-share-public-narrow.png", fullPage: true);

            // On a phone nothing runs off the side (a long size label once made the form wider than the screen).
            Assert.Equal(390, await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"));
            await page.SetViewportSizeAsync(1400, 900);

            await using var stranger = await chromium.Browser.NewContextAsync();
            var strangerPage = await stranger.NewPageAsync();
            await Eventually.TrueAsync(
                async () => (await strangerPage.GotoAsync(DevServer().ToString()))?.Status == 200 && new Uri(strangerPage.Url) == DevServer(),
                "a stranger reaches the public port",
                TimeSpan.FromSeconds(10));
            await Assertions.Expect(strangerPage.GetByText("Directory listing for /")).ToBeVisibleAsync();
            await ScreenshotWithAddressAsync(strangerPage, "origin-public-stranger.png");

            // Private again: the stranger is sent to log in; the owner's page keeps working.
            await row.GetByLabel($"Who may open port {devPort}").SelectOptionAsync("private");

            // Still listed, now private: setting a level never makes the port disappear.
            await Assertions.Expect(row.Locator($".port[data-port='{devPort}']").GetByLabel($"Who may open port {devPort}")).ToHaveValueAsync("private", new() { Timeout = 15_000 });
            await Eventually.TrueAsync(
                async () => (await strangerPage.GotoAsync(DevServer().ToString()))?.Status == 200 && new Uri(strangerPage.Url).Authority == platform.Url.Authority,
                "the stranger is refused the private port and sent to log in",
                TimeSpan.FromSeconds(10));
            await Assertions.Expect(strangerPage.Locator("#login-form")).ToBeVisibleAsync();
            Assert.Equal(200, (await devPage.ReloadAsync())?.Status);
        });

        await scenario.StepAsync("5. Ctrl-C stops everything run.sh started", async () =>
        {
            Assert.True(await platform.InterruptAsync(TimeSpan.FromSeconds(60)), "run.sh ended within 60 s of Ctrl-C");
            Assert.False(Listening(devPort), "the workspace's dev server stopped with its editor");
        });
    }

    /// <summary>
    /// Open on the page: a new tab through the gateway with a ticket, then VS Code at <paramref name="editorAddress"/>
    /// (<c>/ws/&lt;sid&gt;/</c> or the workspace's own origin) with the workspace's folder in the Explorer.
    /// </summary>
    /// <param name="handshakes">When given: the HTTP status of each of the editor's WebSocket handshakes, as Chromium reports it.</param>
    private static async Task<IPage> OpenEditorAsync(IBrowserContext context, ILocator row, Uri editorAddress, Scenario scenario, List<int>? handshakes = null)
    {
        var sockets = 0;
        var frames = 0;
        // Chromium's own account of each handshake (the protocol is not in Playwright's WebSocket events), from a
        // DevTools session opened as soon as the tab exists: the workbench opens its socket only after its page and
        // scripts have loaded, so none is missed.
        Task<ICDPSession>? devTools = null;
        void Observe(object? sender, IPage page) => devTools ??= context.NewCDPSessionAsync(page);
        if (handshakes is not null)
        {
            context.Page += Observe;
        }

        var editor = await context.RunAndWaitForPageAsync(() => row.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync(), new() { Timeout = 30_000 });
        context.Page -= Observe;
        if (devTools is not null)
        {
            var session = await devTools;
            session.Event("Network.webSocketHandshakeResponseReceived").OnEvent += (_, message) =>
            {
                lock (handshakes!)
                {
                    handshakes.Add(message!.Value.GetProperty("response").GetProperty("status").GetInt32());
                }
            };
            await session.SendAsync("Network.enable");
        }

        var webSocketScheme = editorAddress.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        editor.WebSocket += (_, socket) =>
        {
            if (socket.Url.StartsWith($"{webSocketScheme}://{editorAddress.Authority}{editorAddress.AbsolutePath}", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref sockets);
                socket.FrameReceived += (_, _) => Interlocked.Increment(ref frames);
                socket.Close += (_, _) => scenario.Saw($"editor WebSocket closed: {socket.Url.Split('?')[0]}");
            }
        };
        await editor.SetViewportSizeAsync(1400, 900);

        // The Explorer lists the folder only once the editor's WebSocket to its server works.
        await Assertions.Expect(editor.Locator(".sidebar .pane-header", new() { HasText = "workspace" })).ToBeVisibleAsync(new() { Timeout = 90_000 });
        await Assertions.Expect(editor.Locator(".explorer-folders-view")).ToBeVisibleAsync();
        Assert.StartsWith(editorAddress.ToString(), editor.Url, StringComparison.Ordinal);
        Assert.True(sockets > 0 && frames > 0, $"the workbench's WebSocket through the gateway carries frames ({sockets} sockets, {frames} frames)");
        return editor;
    }

    /// <summary>The page's New workspace form (start now ticked), until the row says Running.</summary>
    private static async Task<(ILocator Row, string Sid)> CreateAndStartAsync(IPage page, string name, Scenario scenario)
    {
        var create = page.Locator("#create-form");
        await create.GetByLabel("Name").FillAsync(name);
        await create.GetByLabel("Template").SelectOptionAsync("python");
        await create.GetByRole(AriaRole.Button, new() { Name = "Create" }).ClickAsync();
        var row = page.Locator("#workspaces .workspace", new() { HasText = name });
        await Assertions.Expect(row.Locator(".state")).ToHaveTextAsync("Running", new() { Timeout = 90_000 });
        var sid = await row.GetAttributeAsync("data-sid") ?? throw new InvalidOperationException("the row has no sid");
        scenario.Involves(sid);
        return (row, sid);
    }

    /// <summary>A terminal in the editor running a static file server on <paramref name="port"/>, bound to localhost inside the workspace.</summary>
    private static async Task StartDevServerAsync(IPage editor, int port)
    {
        // Through the command palette, filled as a command query and sent only once the command is listed: in a
        // workbench that has just come back (after a restart of its workspace) the palette's box did not always
        // have the focus when typing began, and the commands register a moment after it opens (seen in CI).
        // Tried again from the start if anything of it did not happen.
        var terminal = editor.Locator(".terminal-wrapper .xterm").First;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await editor.Keyboard.PressAsync("Escape");
                await editor.Keyboard.PressAsync("F1");
                var query = editor.Locator(".quick-input-widget .quick-input-box input");
                await Assertions.Expect(query).ToBeVisibleAsync(new() { Timeout = 10_000 });
                await query.FillAsync(">Terminal: Create New Terminal");
                await Assertions.Expect(editor.Locator(".quick-input-widget .quick-input-list")).ToContainTextAsync("Create New Terminal", new() { Timeout = 10_000 });
                await query.PressAsync("Enter");
                await Assertions.Expect(terminal).ToBeVisibleAsync(new() { Timeout = 15_000 });
                break;
            }
            catch (PlaywrightException) when (attempt < 3)
            {
            }
        }

        await terminal.ClickAsync();
        await editor.Keyboard.TypeAsync($"python3 -m http.server {port} --bind 127.0.0.1\n");
    }

    /// <summary>A headless screenshot has no address bar: this one shows the page's address in a label the test adds (README).</summary>
    private static async Task ScreenshotWithAddressAsync(IPage page, string name)
    {
        await page.EvaluateAsync("""
            () => {
              const label = document.createElement('div');
              label.id = 'e2e-address';
              label.textContent = location.href;
              Object.assign(label.style, { position: 'fixed', top: '4px', left: '50%', transform: 'translateX(-50%)', zIndex: 100000,
                background: '#fff8c4', border: '1px solid #b8a600', borderRadius: '4px', padding: '2px 8px', font: '12px monospace' });
              document.body.appendChild(label);
            }
            """);
        await HeadlessChromium.ScreenshotAsync(page, name);
        await page.EvaluateAsync("() => document.getElementById('e2e-address').remove()");
    }

    private static bool Listening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The workspace's editor and every process below it, with their resident memory (from /proc).</summary>
    private static List<(string Name, string CommandLine, long RssKiB)> EditorProcesses(RunScript platform, string sid)
    {
        var root = int.Parse(File.ReadAllText(Path.Combine(platform.DataDirectory, "workspaces", ".editors", sid + ".pid")), CultureInfo.InvariantCulture);
        var result = new List<(string, string, long)>();
        foreach (var pid in Processes.Below(root))
        {
            try
            {
                var status = File.ReadAllLines($"/proc/{pid}/status");
                var name = status.First(line => line.StartsWith("Name:", StringComparison.Ordinal))[5..].Trim();
                var rss = status.FirstOrDefault(line => line.StartsWith("VmRSS:", StringComparison.Ordinal)) is { } line
                    ? long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) : 0;
                var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                result.Add((name, commandLine, rss));
            }
            catch (IOException)
            {
                // Gone meanwhile.
            }
        }

        return result;
    }
}
