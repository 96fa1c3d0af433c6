using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using WebApi.Data;

namespace WebApi.Tests.Accounts;

/// <summary>
/// The keys that protect session cookies are in the database: in Kubernetes several web API replicas sit
/// behind the gateway, and a browser's next request may reach any of them.
/// </summary>
public sealed class SessionKeyTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("webapi-sessions");
    private readonly string _signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task A_session_one_replica_issued_is_read_by_another_on_the_same_database()
    {
        await using var first = await StartAsync("replica-a");
        await using var second = await StartAsync("replica-b");

        using var browser = new HttpClient(new SocketsHttpHandler { UseCookies = false });
        using var registered = await browser.PostAsJsonAsync(new Uri(Address(first), "/api/accounts/register"), new { userName = "erin", email = "erin@example.com", password = "correct horse battery" });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var cookie = registered.Headers.GetValues("Set-Cookie").Single().Split(';')[0];

        using var me = new HttpRequestMessage(HttpMethod.Get, new Uri(Address(second), "/api/accounts/me")) { Headers = { { "Cookie", cookie } } };
        using var answer = await browser.SendAsync(me);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.Contains("erin", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keys_an_earlier_version_kept_in_the_data_folder_move_into_the_database_once()
    {
        // What the web API used to write: key files under <data>/keys.
        var data = Directory.CreateDirectory(Path.Combine(_root.FullName, "upgraded"));
        var old = DataProtectionProvider.Create(Directory.CreateDirectory(Path.Combine(data.FullName, "keys")));
        _ = old.CreateProtector("any").Protect("x"u8.ToArray());
        var keyFile = Assert.Single(Directory.GetFiles(Path.Combine(data.FullName, "keys"), "key-*.xml"));
        var keyId = Guid.Parse(Path.GetFileNameWithoutExtension(keyFile)["key-".Length..]);

        await using (var upgraded = await StartAsync("upgraded"))
        {
            Assert.Contains(keyId, upgraded.Services.GetRequiredService<IKeyManager>().GetAllKeys().Select(k => k.KeyId));
        }

        // The next start finds the database holding keys and imports nothing twice.
        await using var again = await StartAsync("upgraded");
        await using var scope = again.Services.CreateAsyncScope();
        Assert.Equal(1, scope.ServiceProvider.GetRequiredService<WebApiDb>().DataProtectionKeys.Count(k => k.FriendlyName == "key-" + keyId));
    }

    private async Task<WebApplication> StartAsync(string dataFolder)
    {
        var data = Directory.CreateDirectory(Path.Combine(_root.FullName, dataFolder));
        string[] args =
        [
            "--urls=http://127.0.0.1:0",
            $"--ConfigFile={Path.Combine(RepositoryPaths.Root, "config", "webapi.json")}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:Console:FormatterName=simple",
            $"--WebApi:DataDirectory={data.FullName}",
            $"--WebApi:Database:ConnectionString=Data Source={Path.Combine(_root.FullName, "shared.db")}",
            $"--WebApi:Tickets:SigningKey={_signingKey}",
            $"--WebApi:CatalogFile={Path.Combine(RepositoryPaths.Root, "config", "catalog.json")}",
            "--WebApi:IdleStop:Enabled=false",
            "--WebApi:Accounts:RequireVerifiedEmail=false",
        ];
        var app = WebApiApplication.Create(args);
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    public void Dispose() => _root.Delete(recursive: true);
}
