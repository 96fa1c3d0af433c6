using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Accounts;

/// <summary>
/// An open installation: a new account is mailed a code (through a real SMTP server) and may create or start a
/// workspace only once it entered it; codes are single-use, expire, and are voided by wrong guesses; asking for
/// new ones is rate-limited per account and per client address.
/// </summary>
public abstract class EmailVerificationTests<TWebApi>(TWebApi webApi) : IClassFixture<TWebApi>
    where TWebApi : WebApiWithMail
{
    [Fact]
    public async Task A_new_account_is_mailed_a_code_and_may_create_workspaces_once_it_entered_it()
    {
        var (client, mail) = await RegisterAsync("verifier");
        Assert.Equal("verifier@example.test", mail.To);
        Assert.Equal(WebApiWithMail.From, ((MimeKit.MailboxAddress)mail.Message.From[0]).Address);
        var code = mail.VerificationCode;
        Assert.Contains(code, mail.Message.Subject, StringComparison.Ordinal);
        Assert.Contains(WebApiWithMail.PublicUrl, mail.Text, StringComparison.Ordinal);

        // Signed in, and told why it may not create a workspace yet.
        var me = (await client.GetFromJsonAsync<Me>("/api/accounts/me"))!;
        Assert.False(me.EmailVerified);
        Assert.True(me.VerificationRequired);
        using (var refused = await client.PostAsJsonAsync("/api/workspaces", new { name = "", template = "python", spec = "1C2G5G" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            var problem = (await refused.Content.ReadFromJsonAsync<ProblemDetails>())!;
            Assert.Equal("email_not_verified", problem.Title);
            Assert.StartsWith("Verify your e-mail address first", problem.Detail, StringComparison.Ordinal);
        }

        using (var start = await client.PostAsync("/api/workspaces/ws-anything/start", null))
        {
            Assert.Equal(HttpStatusCode.Forbidden, start.StatusCode);
        }

        await AssertRefusedAsync(client, Wrong(code), HttpStatusCode.BadRequest, "wrong_code");
        await AssertRefusedAsync(client, "12345", HttpStatusCode.BadRequest, "wrong_code");

        // Typed with a space in the middle, as people copy it.
        using (var verified = await client.PostAsJsonAsync("/api/accounts/verification", new { code = $"{code[..3]} {code[3..]}" }))
        {
            Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
            Assert.True((await verified.Content.ReadFromJsonAsync<Me>())!.EmailVerified);
        }

        // The same session may now create one: the request is judged on its own (an empty name is refused as such).
        using (var judged = await client.PostAsJsonAsync("/api/workspaces", new { name = "", template = "python", spec = "1C2G5G" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, judged.StatusCode);
            Assert.Contains("name", (await judged.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.Keys);
        }

        // Used once: used up. Asking for another now is refused as already done.
        await AssertRefusedAsync(client, code, HttpStatusCode.OK, null);
        using var resend = await client.PostAsync("/api/accounts/verification/resend", null);
        Assert.Equal(HttpStatusCode.Conflict, resend.StatusCode);
    }

    [Fact]
    public async Task A_code_is_single_use_expires_and_is_voided_by_five_wrong_guesses()
    {
        var (client, mail) = await RegisterAsync("guesser");
        var code = mail.VerificationCode;
        for (var guess = 0; guess < 5; guess++)
        {
            await AssertRefusedAsync(client, Wrong(code, guess), HttpStatusCode.BadRequest, "wrong_code");
        }

        // The right code after five wrong ones: void.
        await AssertRefusedAsync(client, code, HttpStatusCode.BadRequest, "code_not_live");

        // A new one, left to expire (15 minutes).
        webApi.Time.Offset += TimeSpan.FromMinutes(2);
        using (var resent = await client.PostAsync("/api/accounts/verification/resend", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, resent.StatusCode);
        }

        var second = (await webApi.Smtp.NextAsync()).VerificationCode;
        webApi.Time.Offset += TimeSpan.FromMinutes(16);
        await AssertRefusedAsync(client, second, HttpStatusCode.BadRequest, "code_not_live");
        Assert.False((await client.GetFromJsonAsync<Me>("/api/accounts/me"))!.EmailVerified);

        // Only the latest code works.
        using (await client.PostAsync("/api/accounts/verification/resend", null))
        {
        }

        var third = (await webApi.Smtp.NextAsync()).VerificationCode;
        Assert.Equal(HttpStatusCode.OK, (await VerifyAsync(client, third)).StatusCode);
    }

    [Fact]
    public async Task A_flood_of_resend_requests_sends_one_mail_a_minute_and_five_an_hour()
    {
        var (client, _) = await RegisterAsync("flooder");
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var resend = await client.PostAsync("/api/accounts/verification/resend", null);
            answers.Add(resend.StatusCode);
            if (resend.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var seconds = int.Parse(resend.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture);
                Assert.InRange(seconds, 1, 60);
                Assert.Contains("you may ask for another in", (await resend.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
            }
        }

        // The registration's own mail was a moment ago: every one of these is too soon.
        Assert.All(answers, status => Assert.Equal(HttpStatusCode.TooManyRequests, status));
        Assert.Null(await webApi.Smtp.AnyWithinAsync(TimeSpan.FromMilliseconds(500)));

        // A minute apart: four more (five this hour with the registration's), then the hour is full.
        for (var i = 0; i < 4; i++)
        {
            webApi.Time.Offset += TimeSpan.FromSeconds(61);
            using var resend = await client.PostAsync("/api/accounts/verification/resend", null);
            Assert.Equal(HttpStatusCode.Accepted, resend.StatusCode);
            await webApi.Smtp.NextAsync();
        }

        webApi.Time.Offset += TimeSpan.FromSeconds(61);
        using (var full = await client.PostAsync("/api/accounts/verification/resend", null))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, full.StatusCode);
            Assert.InRange(int.Parse(full.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 60, 3600);
        }

        webApi.Time.Offset += TimeSpan.FromHours(1);
        using var later = await client.PostAsync("/api/accounts/verification/resend", null);
        Assert.Equal(HttpStatusCode.Accepted, later.StatusCode);
        await webApi.Smtp.NextAsync();
    }

    [Fact]
    public async Task Without_a_session_nothing_is_verified_or_sent()
    {
        using var anonymous = webApi.NewClient();
        using var verify = await anonymous.PostAsJsonAsync("/api/accounts/verification", new { code = "123456" });
        Assert.Equal(HttpStatusCode.Unauthorized, verify.StatusCode);
        using var resend = await anonymous.PostAsync("/api/accounts/verification/resend", null);
        Assert.Equal(HttpStatusCode.Unauthorized, resend.StatusCode);
    }

    private async Task<(HttpClient Client, ReceivedMail Mail)> RegisterAsync(string name)
    {
        var client = await webApi.NewUserAsync(name);
        return (client, await webApi.Smtp.NextAsync());
    }

    private static Task<HttpResponseMessage> VerifyAsync(HttpClient client, string code) =>
        client.PostAsJsonAsync("/api/accounts/verification", new { code });

    private static async Task AssertRefusedAsync(HttpClient client, string code, HttpStatusCode status, string? title)
    {
        using var response = await VerifyAsync(client, code);
        Assert.Equal(status, response.StatusCode);
        if (title is not null)
        {
            Assert.Equal(title, (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);
        }
    }

    private static string Wrong(string code, int variant = 0) =>
        ((int.Parse(code, System.Globalization.CultureInfo.InvariantCulture) + 1 + variant) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    private sealed record Me(string UserName, bool EmailVerified, bool VerificationRequired);
}

public sealed class SqliteEmailVerificationTests(WebApiWithMail webApi) : EmailVerificationTests<WebApiWithMail>(webApi);

public sealed class PostgresEmailVerificationTests(PostgresWebApiWithMail webApi) : EmailVerificationTests<PostgresWebApiWithMail>(webApi);
