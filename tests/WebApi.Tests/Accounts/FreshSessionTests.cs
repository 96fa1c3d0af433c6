using System.Net;
using System.Net.Http.Json;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Accounts;

/// <summary>
/// A session cookie is good from the answer that sets it: on a web API that has just started (no session key made
/// yet), many people registering at once each use their session at once, and none is refused.
/// </summary>
public sealed class FreshSessionTests
{
    [Fact]
    public async Task Sessions_issued_at_once_by_a_fresh_web_api_are_each_accepted_at_once()
    {
        await using var webApi = new WebApiAlone().With("WebApi:Accounts:MailRequestsPerAddressPerMinute", "100");
        await webApi.InitializeAsync();

        const int People = 40;
        var refused = new List<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, People), new ParallelOptions { MaxDegreeOfParallelism = People }, async (i, token) =>
        {
            using var client = webApi.NewClient();
            using var registered = await client.PostAsJsonAsync("/api/accounts/register", new { userName = $"person{i}", email = $"person{i}@example.test", password = "correct horse battery" }, token);
            Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
            for (var call = 0; call < 3; call++)
            {
                using var me = await client.GetAsync(new Uri("/api/accounts/me", UriKind.Relative), token);
                using var workspaces = await client.GetAsync(new Uri("/api/workspaces", UriKind.Relative), token);
                if (me.StatusCode != HttpStatusCode.OK || workspaces.StatusCode != HttpStatusCode.OK)
                {
                    lock (refused)
                    {
                        refused.Add($"person{i} call {call}: me {(int)me.StatusCode}, workspaces {(int)workspaces.StatusCode}");
                    }
                }
            }
        });

        Assert.True(refused.Count == 0, string.Join('\n', refused));
    }
}
