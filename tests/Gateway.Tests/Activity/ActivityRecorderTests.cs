using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Activity;

/// <summary>
/// The gateway's record of use (<c>ZADD activity &lt;unix-s&gt; &lt;sid&gt;</c>) that the web API's idle auto-stop
/// reads: requests and open editor tunnels count, nothing else does.
/// </summary>
public sealed class ActivityRecorderTests : IClassFixture<QuickActivityGateway>
{
    private readonly QuickActivityGateway _env;

    public ActivityRecorderTests(QuickActivityGateway env) => _env = env;

    [Fact]
    public async Task A_request_records_its_workspaces_use_and_an_unused_or_unknown_workspace_gets_none()
    {
        var used = await _env.RouteAsync(_env.A);
        var unused = await _env.RouteAsync(_env.B);
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        using (await _env.Gateway.Client.GetAsync(new Uri($"/ws/{used}/", UriKind.Relative)))
        {
        }

        using (await _env.Gateway.Client.GetAsync(new Uri("/ws/nosuchworkspace/", UriKind.Relative)))
        {
        }

        await Eventually.TrueAsync(async () => await ScoreAsync(used) >= before, "the activity of the used workspace is written");
        Assert.Null(await ScoreAsync(unused));
        Assert.Null(await ScoreAsync("nosuchworkspace"));
    }

    [Fact]
    public async Task An_open_editor_tunnel_keeps_its_workspace_in_use_without_requests()
    {
        var sid = await _env.RouteAsync(_env.A);
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", _env.Gateway.Address.GetLeftPart(UriPartial.Authority));
        await socket.ConnectAsync(_env.Gateway.WebSocketUri($"/ws/{sid}/socket"), CancellationToken.None);
        await Eventually.TrueAsync(async () => await ScoreAsync(sid) is not null, "its activity is written");
        var first = (await ScoreAsync(sid))!.Value;

        // Scores are whole seconds: past the next second, the tunnel alone must have refreshed it.
        await Eventually.TrueAsync(async () => await ScoreAsync(sid) > first, "a later use moves its activity forward", TimeSpan.FromSeconds(5));

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        await Task.Delay(QuickActivityGateway.FlushInterval * 3);
        var afterClose = await ScoreAsync(sid);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.Equal(afterClose, await ScoreAsync(sid));
    }

    [Fact]
    public async Task Use_while_Redis_is_away_is_recorded_once_it_is_back()
    {
        var sid = await _env.RouteAsync(_env.A);
        using (await _env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative)))
        {
        }

        await Eventually.TrueAsync(async () => await ScoreAsync(sid) is not null, "its activity is written");

        // Redis restarted without persistence: the set is gone, and the rounds while it is away cannot be written.
        _env.Redis.Terminate();
        var usedWhileAway = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using (var cached = await _env.Gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
        }

        await Task.Delay(QuickActivityGateway.FlushInterval * 5);
        await _env.Redis.RestartAsync();

        // Nobody uses the workspace after Redis is back: only what was kept from the failed rounds can record it.
        await Eventually.TrueAsync(async () => await ScoreAsync(sid) >= usedWhileAway, "the use while Redis was away is written once it is back", TimeSpan.FromSeconds(10));
    }

    private async Task<long?> ScoreAsync(string sid)
    {
        try
        {
            return await _env.Writer.ExecuteAsync("ZSCORE", "activity", sid) is string score ? long.Parse(score, CultureInfo.InvariantCulture) : null;
        }
        catch (StackExchange.Redis.RedisConnectionException)
        {
            // The tests' client fails fast while it reconnects to a restarted server.
            return null;
        }
    }
}

/// <summary>A gateway that writes activity every 200 ms instead of every 10 s.</summary>
public sealed class QuickActivityGateway : GatewayWithBackends
{
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(200);

    protected override string[] GatewayArguments => [$"--Gateway:Activity:FlushInterval={FlushInterval}"];
}
