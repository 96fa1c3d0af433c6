using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Accounts;

/// <summary>
/// A forgotten password: a one-time link mailed to the account's address, whose asking never tells whether an
/// address is registered; choosing a new password (by the link, or by its owner) ends every other session.
/// </summary>
public abstract partial class PasswordResetTests<TWebApi>(TWebApi webApi) : IClassFixture<TWebApi>
    where TWebApi : WebApiWithMail
{
    private const string NewPassword = "a brand new passphrase";

    [GeneratedRegex(@"#reset=(\S+)")]
    private static partial Regex ResetLink();

    [Fact]
    public async Task The_answer_is_the_same_for_a_registered_address_and_an_unknown_one_and_only_the_registered_one_gets_a_link()
    {
        using var owner = await webApi.NewUserAsync("forgetful");
        await webApi.Smtp.NextAsync();
        using var anonymous = webApi.NewClient();

        using var unknown = await anonymous.PostAsJsonAsync("/api/accounts/password/forgot", new { email = "nobody@example.test" });
        Assert.Null(await webApi.Smtp.AnyWithinAsync(TimeSpan.FromSeconds(1)));
        using var known = await anonymous.PostAsJsonAsync("/api/accounts/password/forgot", new { email = "FORGETFUL@example.test" });
        var mail = await webApi.Smtp.NextAsync();

        Assert.Equal(HttpStatusCode.Accepted, unknown.StatusCode);
        Assert.Equal(unknown.StatusCode, known.StatusCode);
        Assert.Equal(await unknown.Content.ReadAsStringAsync(), await known.Content.ReadAsStringAsync());
        Assert.Equal("forgetful@example.test", mail.To);
        Assert.Contains(WebApiWithMail.PublicUrl + "#reset=", mail.Text, StringComparison.Ordinal);

        // A second request at once: the same answer, and no second mail (one a minute).
        using var again = await anonymous.PostAsJsonAsync("/api/accounts/password/forgot", new { email = "forgetful@example.test" });
        Assert.Equal(await known.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Null(await webApi.Smtp.AnyWithinAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task The_link_sets_a_new_password_once_ends_every_other_session_and_a_refused_password_leaves_it_usable()
    {
        using var laptop = await webApi.NewUserAsync("resetter");
        await webApi.Smtp.NextAsync();
        using var phone = webApi.NewClient();
        using (await phone.PostAsJsonAsync("/api/accounts/login", new { userName = "resetter", password = "correct horse battery" }))
        {
        }

        Assert.Equal(HttpStatusCode.OK, (await phone.GetAsync("/api/accounts/me")).StatusCode);
        var token = await AskForLinkAsync("resetter@example.test");

        using var browser = webApi.NewClient();
        await AssertResetRefusedAsync(browser, token, "password", HttpStatusCode.BadRequest);
        await AssertResetRefusedAsync(browser, token[..^2] + (token[^2..] == "AA" ? "BB" : "AA"), NewPassword, HttpStatusCode.BadRequest, "reset_link_not_live");
        await AssertResetRefusedAsync(browser, "not-a-token", NewPassword, HttpStatusCode.BadRequest, "reset_link_not_live");

        using (var reset = await browser.PostAsJsonAsync("/api/accounts/password/reset", new { token, password = NewPassword }))
        {
            Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        }

        // The browser that reset it is signed in; the sessions from before are over, on their next request.
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/accounts/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await laptop.GetAsync("/api/accounts/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await phone.GetAsync("/api/workspaces")).StatusCode);

        await AssertResetRefusedAsync(webApi.NewClient(), token, "yet another passphrase", HttpStatusCode.BadRequest, "reset_link_not_live");
        Assert.Equal(HttpStatusCode.Unauthorized, await LogInAsync("resetter", "correct horse battery"));
        Assert.Equal(HttpStatusCode.OK, await LogInAsync("resetter", NewPassword));
    }

    [Fact]
    public async Task A_link_expires_and_only_the_newest_one_works()
    {
        using (await webApi.NewUserAsync("slowreader"))
        {
            await webApi.Smtp.NextAsync();
        }

        var first = await AskForLinkAsync("slowreader@example.test");
        webApi.Time.Offset += TimeSpan.FromMinutes(2);
        var second = await AskForLinkAsync("slowreader@example.test");
        await AssertResetRefusedAsync(webApi.NewClient(), first, NewPassword, HttpStatusCode.BadRequest, "reset_link_not_live");

        webApi.Time.Offset += TimeSpan.FromMinutes(31);
        await AssertResetRefusedAsync(webApi.NewClient(), second, NewPassword, HttpStatusCode.BadRequest, "reset_link_not_live");
        Assert.Equal(HttpStatusCode.OK, await LogInAsync("slowreader", "correct horse battery"));
    }

    [Fact]
    public async Task Changing_the_password_keeps_this_session_and_ends_the_others()
    {
        using var here = await webApi.NewUserAsync("changer");
        await webApi.Smtp.NextAsync();
        using var elsewhere = webApi.NewClient();
        using (await elsewhere.PostAsJsonAsync("/api/accounts/login", new { userName = "changer", password = "correct horse battery" }))
        {
        }

        using (var wrong = await here.PostAsJsonAsync("/api/accounts/password", new { currentPassword = "not it at all", newPassword = NewPassword }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
            Assert.Equal("wrong_password", (await wrong.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);
        }

        using (var weak = await here.PostAsJsonAsync("/api/accounts/password", new { currentPassword = "correct horse battery", newPassword = "password" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
            Assert.Contains("newPassword", (await weak.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        }

        Assert.Equal(HttpStatusCode.OK, (await elsewhere.GetAsync("/api/accounts/me")).StatusCode);
        using (var changed = await here.PostAsJsonAsync("/api/accounts/password", new { currentPassword = "correct horse battery", newPassword = NewPassword }))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await here.GetAsync("/api/accounts/me")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await elsewhere.GetAsync("/api/accounts/me")).StatusCode);
    }

    private async Task<string> AskForLinkAsync(string email)
    {
        using var anonymous = webApi.NewClient();
        using (await anonymous.PostAsJsonAsync("/api/accounts/password/forgot", new { email }))
        {
        }

        return Uri.UnescapeDataString(ResetLink().Match((await webApi.Smtp.NextAsync()).Text).Groups[1].Value);
    }

    private async Task<HttpStatusCode> LogInAsync(string userName, string password)
    {
        using var client = webApi.NewClient();
        using var response = await client.PostAsJsonAsync("/api/accounts/login", new { userName, password });
        return response.StatusCode;
    }

    private static async Task AssertResetRefusedAsync(HttpClient client, string token, string password, HttpStatusCode status, string? title = null)
    {
        using var response = await client.PostAsJsonAsync("/api/accounts/password/reset", new { token, password });
        Assert.Equal(status, response.StatusCode);
        if (title is not null)
        {
            Assert.Equal(title, (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);
        }
    }
}

public sealed class SqlitePasswordResetTests(WebApiWithMail webApi) : PasswordResetTests<WebApiWithMail>(webApi);

public sealed class PostgresPasswordResetTests(PostgresWebApiWithMail webApi) : PasswordResetTests<PostgresWebApiWithMail>(webApi);
