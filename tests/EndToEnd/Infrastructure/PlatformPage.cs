using Microsoft.Playwright;

namespace EndToEnd.Infrastructure;

/// <summary>What a user does on the web API's page, the way they do it: through its labelled forms.</summary>
public static class PlatformPage
{
    public const string Password = "correct horse battery";

    /// <summary>Fills and sends the registration form (the page then shows the user's workspaces).</summary>
    public static async Task RegisterAsync(IPage page, string userName)
    {
        var register = page.Locator("#register-form");
        await register.GetByLabel("User name").FillAsync(userName);
        await register.GetByLabel("E-mail").FillAsync($"{userName}@example.test");
        await register.GetByLabel("Password").FillAsync(Password);
        await register.GetByRole(AriaRole.Button, new() { Name = "Register" }).ClickAsync();
    }
}
