using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Accounts;

public abstract class AccountTests<TWebApi>(TWebApi platform) : IClassFixture<TWebApi>
    where TWebApi : class, IWebApiUnderTest
{
    [Fact]
    public async Task Register_signs_in_with_an_http_only_cookie_and_logout_ends_the_session()
    {
        using var client = platform.NewClient();
        using var registered = await client.PostAsJsonAsync("/api/accounts/register", new { userName = "alice", email = "alice@example.test", password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var cookie = registered.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ide_session=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", cookie, StringComparison.OrdinalIgnoreCase);

        Assert.Equal("alice", (await client.GetFromJsonAsync<UserViewDto>("/api/accounts/me"))!.UserName);
        using (await client.PostAsync("/api/accounts/logout", null))
        {
        }

        using var after = await client.GetAsync("/api/accounts/me");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task Passwords_are_stored_hashed_and_log_in_checks_them()
    {
        using var client = await platform.NewUserAsync("bob");
        using var anonymous = platform.NewClient();

        using var wrong = await anonymous.PostAsJsonAsync("/api/accounts/login", new { userName = "bob", password = "wrong password!" });
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var unknown = await anonymous.PostAsJsonAsync("/api/accounts/login", new { userName = "nobody-here", password = "whatever123" });
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        Assert.Equal((await wrong.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, (await unknown.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);

        using var right = await anonymous.PostAsJsonAsync("/api/accounts/login", new { userName = "BOB", password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);

        await using var scope = platform.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebApi.Data.WebApiDb>();
        var stored = db.Users.Single(u => u.UserName == "bob").PasswordHash;
        Assert.DoesNotContain("correct horse", stored, StringComparison.Ordinal);
        Assert.True(stored.Length > 40);
    }

    [Fact]
    public async Task Taken_names_and_addresses_and_weak_input_get_their_own_answers()
    {
        using (await platform.NewUserAsync("carol"))
        {
        }

        using var client = platform.NewClient();
        using var sameName = await client.PostAsJsonAsync("/api/accounts/register", new { userName = "CAROL", email = "other@example.test", password = "long enough pw" });
        Assert.Equal(HttpStatusCode.Conflict, sameName.StatusCode);
        Assert.Contains("user name", (await sameName.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);

        using var sameEmail = await client.PostAsJsonAsync("/api/accounts/register", new { userName = "carol2", email = "carol@example.test", password = "long enough pw" });
        Assert.Equal(HttpStatusCode.Conflict, sameEmail.StatusCode);
        Assert.Contains("e-mail", (await sameEmail.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);

        using var weak = await client.PostAsJsonAsync("/api/accounts/register", new { userName = "x", email = "not-an-address", password = "short" });
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        var problem = await weak.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Equal(["email", "password", "userName"], problem!.Errors.Keys.Order());
    }

    [Theory]
    [InlineData("password", "most common")]
    [InlineData("        ", "at least 8 characters")]
    [InlineData("12345678", "most common")]
    public async Task A_common_or_blank_password_is_refused_at_registration_with_the_reason(string password, string reason)
    {
        using var client = platform.NewClient();
        using var refused = await client.PostAsJsonAsync("/api/accounts/register", new { userName = "erin", email = "erin@example.test", password });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains(reason, Assert.Single(problem!.Errors["password"]), StringComparison.Ordinal);
        using var me = await client.GetAsync("/api/accounts/me");
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    // An account made before the rules (its password now on the list) still signs in: nothing a user has is locked.
    [Fact]
    public async Task An_account_whose_password_the_rules_now_refuse_still_signs_in()
    {
        await using (var scope = platform.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<WebApi.Data.WebApiDb>();
            var hasher = scope.ServiceProvider.GetRequiredService<Microsoft.AspNetCore.Identity.IPasswordHasher<WebApi.Accounts.User>>();
            var user = new WebApi.Accounts.User
            {
                UserName = "frank",
                NormalizedUserName = "FRANK",
                Email = "frank@example.test",
                NormalizedEmail = "FRANK@EXAMPLE.TEST",
                PasswordHash = "",
                CreatedAt = DateTimeOffset.UtcNow,
            };
            user.PasswordHash = hasher.HashPassword(user, "password");
            db.Users.Add(user);
            await db.SaveChangesAsync();
        }

        using var client = platform.NewClient();
        using var login = await client.PostAsJsonAsync("/api/accounts/login", new { userName = "frank", password = "password" });
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
    }

    [Fact]
    public async Task Guessing_a_password_is_stopped_after_the_allowed_attempts_per_minute()
    {
        using (await platform.NewUserAsync("dave"))
        {
        }

        using var client = platform.NewClient();
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await client.PostAsJsonAsync("/api/accounts/login", new { userName = "dave", password = $"guess-{i}-xx" });
            answers.Add(response.StatusCode);
        }

        Assert.Equal(10, answers.Count(a => a == HttpStatusCode.Unauthorized));
        Assert.Equal(2, answers.Count(a => a == HttpStatusCode.TooManyRequests));

        // Even the right password waits out the minute: the throttle does not tell guesses apart.
        using var right = await client.PostAsJsonAsync("/api/accounts/login", new { userName = "dave", password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        Assert.NotNull(right.Headers.RetryAfter);
    }

    [Fact]
    public async Task Behind_a_trusted_proxy_the_throttle_counts_each_clients_address_not_the_proxys()
    {
        // Without X-Forwarded-For every user behind the gateway shares its address: one client's 100
        // failed log-ins a minute would lock everyone out.
        using var client = platform.NewClient();
        async Task<HttpStatusCode> LogInFrom(string address, int attempt)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/accounts/login")
            {
                Content = JsonContent.Create(new { userName = $"nobody-{address}-{attempt}", password = "whatever it is" }),
            };
            request.Headers.Add("X-Forwarded-For", address);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        var perAddress = platform.Services.GetRequiredService<IOptions<WebApiOptions>>().Value.Accounts.LoginAttemptsPerAddressPerMinute;
        for (var i = 0; i < perAddress; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await LogInFrom("203.0.113.7", i));
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, await LogInFrom("203.0.113.7", perAddress));
        Assert.Equal(HttpStatusCode.Unauthorized, await LogInFrom("203.0.113.8", 0));
        using var direct = await client.PostAsJsonAsync("/api/accounts/login", new { userName = "nobody-direct", password = "whatever it is" });
        Assert.Equal(HttpStatusCode.Unauthorized, direct.StatusCode);
    }

    [Fact]
    public async Task The_catalog_lists_the_templates_and_specs_from_config()
    {
        using var client = platform.NewClient();
        var templates = await client.GetFromJsonAsync<List<TemplateDto>>("/api/templates");
        var specs = await client.GetFromJsonAsync<List<SpecDto>>("/api/specs");
        Assert.Contains(templates!, t => t.Key == "go" && t.Image.Length > 0 && t.Tags.Contains("go"));
        Assert.Equal(["1C2G5G", "2C4G10G", "4C8G20G"], specs!.Select(s => s.Key));
    }

    [Fact]
    public async Task The_OpenAPI_document_describes_every_endpoint()
    {
        using var client = platform.NewClient();
        using var document = System.Text.Json.JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json"));
        var paths = document.RootElement.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToHashSet();
        foreach (var path in (string[])["/api/accounts/register", "/api/accounts/login", "/api/accounts/me", "/api/templates", "/api/specs",
                     "/api/workspaces", "/api/workspaces/{sid}", "/api/workspaces/{sid}/start", "/api/workspaces/{sid}/stop", "/api/workspaces/{sid}/open",
                     "/api/workspaces/{sid}/ports/{port}", "/api/tickets"])
        {
            Assert.Contains(path, paths);
        }
    }

    private sealed record UserViewDto(long Id, string UserName, string Email);

    private sealed record TemplateDto(string Key, string Name, string Image, string[] Tags);

    private sealed record SpecDto(string Key, string DisplayName, string Cpu, string Memory, string Storage);
}

public sealed class SqliteAccountTests(WebApiAlone webApi) : AccountTests<WebApiAlone>(webApi);

public sealed class PostgresAccountTests(PostgresWebApiAlone webApi) : AccountTests<PostgresWebApiAlone>(webApi);
