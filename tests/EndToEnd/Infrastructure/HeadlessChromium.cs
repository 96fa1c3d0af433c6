using Microsoft.Playwright;

namespace EndToEnd.Infrastructure;

/// <summary>
/// Debian's chromium under Playwright, never a downloaded browser (../shared/PACKAGES.md). It trusts one
/// certificate made for the run, <see cref="Tls"/> (localhost and 127.0.0.1), as a browser trusts a real one:
/// by its public key, so the page keeps everything a trusted origin has (HTTP/2, service workers).
/// </summary>
public sealed class HeadlessChromium : IAsyncLifetime, IDisposable
{
    private readonly TestCertificates _authority = new();

    /// <summary>Where the tests' screenshots go (bin/.../artifacts).</summary>
    public static readonly string Artifacts = Path.Combine(AppContext.BaseDirectory, "artifacts");

    private IPlaywright _playwright = null!;

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>A certificate for localhost and 127.0.0.1 the browser trusts, to give the gateway (TLS_CERT_FILE, TLS_KEY_FILE).</summary>
    public CertificatePair Tls { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Artifacts);
        Tls = _authority.Issue("localhost", "localhost");
        var publicKey = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(Tls.Certificate.PublicKey.ExportSubjectPublicKeyInfo()));
        // Playwright's own requests (APIRequest) go from its Node.js driver, which inherits this and trusts the
        // authority; unset again once it runs, so the platform the tests start (code-server is Node too) never sees it.
        Environment.SetEnvironmentVariable("NODE_EXTRA_CA_CERTS", _authority.RootFile);
        _playwright = await Playwright.CreateAsync();
        Environment.SetEnvironmentVariable("NODE_EXTRA_CA_CERTS", null);
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-dev-shm-usage", $"--ignore-certificate-errors-spki-list={publicKey}"],
        });
    }

    public void Dispose() => _authority.Dispose();

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }

    public static Task ScreenshotAsync(IPage page, string name, bool fullPage = false) =>
        page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, name), FullPage = fullPage });
}
