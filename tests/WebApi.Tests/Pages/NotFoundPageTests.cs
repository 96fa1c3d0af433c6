using System.Net;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Pages;

/// <summary>An address nothing serves: a page for a person, a problem for a program.</summary>
public sealed class NotFoundPageTests(WebApiAlone webApi) : IClassFixture<WebApiAlone>
{
    [Fact]
    public async Task A_browser_opening_an_address_nothing_serves_gets_a_page_that_leads_back()
    {
        using var client = webApi.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/no-such-page");
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        request.Headers.Add("Sec-Fetch-Mode", "navigate");

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Page not found", body, StringComparison.Ordinal);
        Assert.Contains("href=\"/\"", body, StringComparison.Ordinal);
        Assert.DoesNotContain("\"status\"", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/no-such-page", "application/json")]
    [InlineData("/api/no-such-thing", "*/*")]
    public async Task A_program_gets_a_problem(string path, string accept)
    {
        using var client = webApi.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd(accept);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
