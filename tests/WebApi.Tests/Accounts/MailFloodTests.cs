using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Accounts;

/// <summary>
/// One client address asking for mail to many addresses (a flood spread over accounts) is stopped by the per-address
/// limit, with a reason and Retry-After; another client is not held back by it.
/// </summary>
public sealed class MailFloodTests(WebApiWithTightMailLimits webApi) : IClassFixture<WebApiWithTightMailLimits>
{
    [Fact]
    public async Task A_client_asking_for_many_mails_is_held_back_and_others_are_not()
    {
        using var flooder = webApi.NewClient();
        flooder.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.7");
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var forgot = await flooder.PostAsJsonAsync("/api/accounts/password/forgot", new { email = $"victim{i}@example.test" });
            answers.Add(forgot.StatusCode);
            if (forgot.StatusCode == HttpStatusCode.TooManyRequests)
            {
                Assert.True(forgot.Headers.Contains("Retry-After"));
                Assert.Equal("too_many_mails", (await forgot.Content.ReadFromJsonAsync<ProblemDetails>())!.Title);
            }
        }

        Assert.Equal([HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.Accepted, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], answers);
        using (var registration = await flooder.PostAsJsonAsync("/api/accounts/register", new { userName = "floodreg", email = "floodreg@example.test", password = "correct horse battery" }))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, registration.StatusCode);
        }

        using var someoneElse = webApi.NewClient();
        someoneElse.DefaultRequestHeaders.Add("X-Forwarded-For", "198.51.100.20");
        using var theirs = await someoneElse.PostAsJsonAsync("/api/accounts/register", new { userName = "bystander", email = "bystander@example.test", password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.Created, theirs.StatusCode);
    }
}
