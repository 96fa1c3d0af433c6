using System.Net;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Health;

public sealed class ProbeTests
{
    [Fact]
    public async Task Readiness_follows_the_database_and_liveness_does_not()
    {
        await using var webApi = new PostgresWebApiAlone();
        await webApi.InitializeAsync();
        using var client = webApi.NewClient();
        Assert.Equal((HttpStatusCode.OK, "ready\n"), await ProbeAsync(client, "/readyz"));

        await webApi.Database.StopAsync();

        var (status, text) = await ProbeAsync(client, "/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.StartsWith("not ready: database", text, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, "ok\n"), await ProbeAsync(client, "/healthz"));
    }

    private static async Task<(HttpStatusCode, string)> ProbeAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }
}
