using System.Net;
using System.Net.Http.Json;

namespace Tests.Common;

/// <summary>A running web API the tests talk to as browsers do, alone or as part of the platform.</summary>
public interface IWebApiUnderTest
{
    IServiceProvider Services { get; }

    /// <summary>A browser-like client: keeps its cookies, follows no redirects.</summary>
    HttpClient NewClient();
}

public static class WebApiUnderTestExtensions
{
    /// <summary>A new registered, logged-in user.</summary>
    public static async Task<HttpClient> NewUserAsync(this IWebApiUnderTest webApi, string? name = null)
    {
        var client = webApi.NewClient();
        name ??= "u" + Guid.NewGuid().ToString("N")[..10];
        using var response = await client.PostAsJsonAsync("/api/accounts/register", new { userName = name, email = $"{name}@example.test", password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return client;
    }
}
