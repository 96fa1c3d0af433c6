using System.Text.RegularExpressions;
using Microsoft.Playwright;
using MimeKit;

namespace EndToEnd.Infrastructure;

/// <summary>What a user does on the web API's page, the way they do it: through its labelled forms.</summary>
public static partial class PlatformPage
{
    public const string Password = "correct horse battery";

    [GeneratedRegex(@"^\s+(\d{6})\s*$", RegexOptions.Multiline)]
    private static partial Regex CodeLine();

    /// <summary>Fills and sends the registration form (the page then shows the user's workspaces).</summary>
    public static async Task RegisterAsync(IPage page, string userName)
    {
        var register = page.Locator("#register-form");
        await register.GetByLabel("User name").FillAsync(userName);
        await register.GetByLabel("E-mail").FillAsync($"{userName}@example.test");
        await register.GetByLabel("Password").FillAsync(Password);
        await register.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
    }

    /// <summary>
    /// Reads the verification code from the mail run.sh's mail sink (a real SMTP server) received for the user, and
    /// enters it where the page asks for it; the create form then appears.
    /// </summary>
    public static async Task VerifyEmailAsync(IPage page, RunScript platform, string userName, string? screenshot = null)
    {
        var form = page.Locator("#verify-form");
        await Assertions.Expect(form).ToBeVisibleAsync();
        await Assertions.Expect(form.Locator("#verify-email")).ToHaveTextAsync($"{userName}@example.test");
        var (code, mail) = await CodeForAsync(platform, userName);

        // The sink prints each mail in run.sh's terminal, where the person who ran it reads the code.
        Assert.Contains($"mail to {userName}@example.test: {mail.Subject}", platform.Output, StringComparison.Ordinal);
        await form.GetByLabel("Code").FillAsync(code);
        if (screenshot is not null)
        {
            await HeadlessChromium.ScreenshotAsync(page, screenshot, fullPage: true);
        }

        await form.GetByRole(AriaRole.Button, new() { Name = "Verify" }).ClickAsync();
        await Assertions.Expect(page.Locator("#create-form")).ToBeVisibleAsync();
        await Assertions.Expect(form).ToBeHiddenAsync();
    }

    /// <summary>The verification code in the newest mail to the user, and that mail.</summary>
    public static async Task<(string Code, MimeMessage Mail)> CodeForAsync(RunScript platform, string userName)
    {
        var mail = await MailToAsync(platform, $"{userName}@example.test");
        var code = CodeLine().Match(mail.TextBody ?? "").Groups[1].Value;
        Assert.Matches(@"^\d{6}$", code);
        Assert.Contains(code, mail.Subject, StringComparison.Ordinal);
        return (code, mail);
    }

    /// <summary>The newest mail to <paramref name="address"/> the sink kept (data/mail/*.eml), waiting up to 30 s for it.</summary>
    public static async Task<MimeMessage> MailToAsync(RunScript platform, string address)
    {
        var folder = Path.Combine(platform.DataDirectory, "mail");
        for (var waited = 0; waited < 300; waited++)
        {
            if (Directory.Exists(folder))
            {
                foreach (var file in Directory.GetFiles(folder, "*.eml").OrderDescending())
                {
                    var message = await MimeMessage.LoadAsync(file);
                    if (message.To.Mailboxes.Any(m => m.Address == address))
                    {
                        return message;
                    }
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"No mail to {address} in {folder} within 30 s; run.sh printed:\n{platform.Output}");
    }
}
