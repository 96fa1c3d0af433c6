using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using WebApi.Data;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Mail;

/// <summary>
/// Mail leaves through the outbox: a user's request never waits for or fails with the SMTP server; a mail the
/// server cannot take now is sent when it can, one it never takes is dropped once what it carries has expired,
/// and a provider's STARTTLS and sign-in are used.
/// </summary>
public sealed class MailDeliveryTests
{
    [Fact]
    public async Task Registering_while_the_mail_server_is_down_succeeds_and_the_code_arrives_once_it_is_up()
    {
        await using var webApi = new WebApiWithMailServerDown();
        await webApi.InitializeAsync();
        using var client = await webApi.NewUserAsync("patient");
        await Task.Delay(500);
        await webApi.Smtp.ListenAsync();

        // The first retry is 5 s after the first failure.
        var mail = await webApi.Smtp.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("patient@example.test", mail.To);
        using var verified = await client.PostAsJsonAsync("/api/accounts/verification", new { code = mail.VerificationCode });
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
        await Eventually.TrueAsync(async () => await OutboxCountAsync(webApi) == 0, "the sent mail left the outbox");
    }

    [Fact]
    public async Task A_mail_the_server_turns_away_for_now_is_sent_again()
    {
        await using var webApi = new WebApiWithMail();
        await webApi.InitializeAsync();
        webApi.Smtp.RefuseNext(1);
        using (await webApi.NewUserAsync("turnedaway"))
        {
        }

        var mail = await webApi.Smtp.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("turnedaway@example.test", mail.To);
        Assert.Equal(1, webApi.Smtp.Refused);
        Assert.Equal(1, webApi.Smtp.Accepted);
        await Eventually.TrueAsync(async () => await OutboxCountAsync(webApi) == 0, "the sent mail left the outbox");
    }

    [Fact]
    public async Task A_mail_whose_code_expired_before_the_server_came_back_is_dropped_unsent()
    {
        await using var webApi = new WebApiWithMailServerDown();
        await webApi.InitializeAsync();
        using (await webApi.NewUserAsync("toolate"))
        {
        }

        Assert.Equal(1, await OutboxCountAsync(webApi));
        webApi.Time.Offset += TimeSpan.FromMinutes(16);
        await Eventually.TrueAsync(async () => await OutboxCountAsync(webApi) == 0, "the expired mail was dropped", TimeSpan.FromSeconds(20));
        await webApi.Smtp.ListenAsync();
        Assert.Null(await webApi.Smtp.AnyWithinAsync(TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public async Task A_new_code_replaces_the_mail_of_the_one_before_while_it_is_still_unsent()
    {
        await using var webApi = new WebApiWithMailServerDown();
        await webApi.InitializeAsync();
        using var client = await webApi.NewUserAsync("impatient");
        webApi.Time.Offset += TimeSpan.FromSeconds(61);
        using (var resent = await client.PostAsync("/api/accounts/verification/resend", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, resent.StatusCode);
        }

        Assert.Equal(1, await OutboxCountAsync(webApi));
        await webApi.Smtp.ListenAsync();
        var mail = await webApi.Smtp.NextAsync(TimeSpan.FromSeconds(20));
        Assert.Null(await webApi.Smtp.AnyWithinAsync(TimeSpan.FromSeconds(6)));
        using var verified = await client.PostAsJsonAsync("/api/accounts/verification", new { code = mail.VerificationCode });
        Assert.Equal(HttpStatusCode.OK, verified.StatusCode);
    }

    [Fact]
    public async Task A_mailbox_the_server_says_does_not_exist_is_not_tried_again_and_others_still_get_theirs()
    {
        await using var webApi = new WebApiWithMail();
        await webApi.InitializeAsync();
        webApi.Smtp.NoSuchMailbox("typo@example.test");
        using var anonymous = webApi.NewClient();
        using (var registered = await anonymous.PostAsJsonAsync("/api/accounts/register", new { userName = "typo", email = "typo@example.test", password = "correct horse battery" }))
        {
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        }

        await Eventually.TrueAsync(async () => await OutboxCountAsync(webApi) == 0, "the refused mail was dropped at once (not kept for retries until its code expires)", TimeSpan.FromSeconds(4));
        using (await webApi.NewUserAsync("careful"))
        {
        }

        Assert.Equal("careful@example.test", (await webApi.Smtp.NextAsync()).To);
    }

    [Fact]
    public async Task A_provider_that_wants_starttls_and_a_sign_in_gets_both()
    {
        await using var webApi = new WebApiWithMailOverStartTls();
        await webApi.InitializeAsync();
        using (await webApi.NewUserAsync("secure"))
        {
        }

        var mail = await webApi.Smtp.NextAsync();
        Assert.True(mail.OverTls);
        Assert.Equal(WebApiWithMailOverStartTls.SmtpUser, mail.SignedInAs);
        Assert.Equal("secure@example.test", mail.To);
    }

    private static async Task<int> OutboxCountAsync(WebApiAlone webApi)
    {
        await using var scope = webApi.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<WebApiDb>().OutgoingMails.CountAsync();
    }
}
