using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Bench.Faults;

/// <summary>
/// A user of the web API as the page is one: a session cookie, one workspace, and what the page does when a call
/// is refused: a refused connection or a 502/503/504 is tried again; a create whose answer was lost is looked up
/// in the list before anything is created twice.
/// </summary>
internal sealed class PlatformUser : IDisposable
{
    private const int Attempts = 200;
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(300);
    private readonly HttpClient _client;
    private readonly string _name;

    private PlatformUser(int port, string name)
    {
        _name = name;
        _client = new HttpClient(new SocketsHttpHandler { CookieContainer = new CookieContainer(), UseCookies = true, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{port}"),
            Timeout = TimeSpan.FromSeconds(150),
        };
    }

    public string? Sid { get; private set; }

    /// <summary>The workspace's state at the last look ("unreachable" when the web API did not answer).</summary>
    public string State { get; private set; } = "";

    public int Succeeded { get; private set; }

    public int Retried { get; private set; }

    public int Failed { get; private set; }

    public static async Task<PlatformUser> RegisterAsync(int port, string name)
    {
        var user = new PlatformUser(port, name);
        using var registered = await user._client.PostAsJsonAsync("/api/accounts/register", new { userName = name, email = $"{name}@example.test", password = "correct horse battery staple" });
        if (registered.StatusCode != HttpStatusCode.Created)
        {
            user.Dispose();
            throw new InvalidOperationException($"registering {name}: {(int)registered.StatusCode} {await registered.Content.ReadAsStringAsync()}");
        }

        return user;
    }

    public void ResetCounts() => (Succeeded, Retried, Failed) = (0, 0, 0);

    /// <summary>Creates and starts the user's workspace.</summary>
    public async Task CreateAsync()
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                using var created = await _client.PostAsJsonAsync("/api/workspaces", new { name = _name, template = "go", spec = "1C2G5G", start = true });
                if (created.StatusCode == HttpStatusCode.Created)
                {
                    var body = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
                    (Sid, State) = (body["sid"]!.GetValue<string>(), body["state"]!.GetValue<string>());
                    Count(attempt);
                    return;
                }

                if (!Retryable(created.StatusCode))
                {
                    Failed++;
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            // The answer was lost or refused: the page reloads the list, and starts what is there.
            await Task.Delay(Pause);
            if (await ListedSidAsync() is { } sid)
            {
                Sid = sid;
                Retried++;
                await CallAsync(HttpMethod.Post, $"/api/workspaces/{sid}/start", expectRunning: true);
                return;
            }
        }

        Failed++;
    }

    /// <summary>A call on the workspace, tried again while the platform refuses it with a clear answer or a refused connection.</summary>
    public async Task CallAsync(HttpMethod method, string path, bool expectRunning)
    {
        for (var attempt = 1; attempt <= Attempts; attempt++)
        {
            try
            {
                using var request = new HttpRequestMessage(method, path);
                using var response = await _client.SendAsync(request);
                if (response.IsSuccessStatusCode || (expectRunning && response.StatusCode == HttpStatusCode.Conflict))
                {
                    Count(attempt);
                    return;
                }

                if (!Retryable(response.StatusCode))
                {
                    Failed++;
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(Pause);
        }

        Failed++;
    }

    public async Task<string> StateAsync()
    {
        try
        {
            var view = await _client.GetFromJsonAsync<JsonObject>($"/api/workspaces/{Sid}");
            State = view?["state"]?.GetValue<string>() ?? "";
        }
        catch (HttpRequestException)
        {
            State = "unreachable";
        }

        return State;
    }

    public void Dispose() => _client.Dispose();

    private static bool Retryable(HttpStatusCode status) => status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    private void Count(int attempt)
    {
        if (attempt == 1)
        {
            Succeeded++;
        }
        else
        {
            Retried++;
        }
    }

    private async Task<string?> ListedSidAsync()
    {
        try
        {
            var list = await _client.GetFromJsonAsync<JsonArray>("/api/workspaces");
            return list?.FirstOrDefault()?["sid"]?.GetValue<string>();
        }
        catch (HttpRequestException)
        {
            return null;
        }
    }
}
