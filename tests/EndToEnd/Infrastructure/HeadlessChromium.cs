using Microsoft.Playwright;

namespace EndToEnd.Infrastructure;

/// <summary>Debian's chromium under Playwright, never a downloaded browser (../shared/PACKAGES.md).</summary>
public sealed class HeadlessChromium : IAsyncLifetime
{
    /// <summary>Where the tests' screenshots go (bin/.../artifacts).</summary>
    public static readonly string Artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");

    private IPlaywright _playwright = null!;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Artifacts);
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }

    public static Task ScreenshotAsync(IPage page, string name, bool fullPage = false) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, name), FullPage = fullPage });
}
