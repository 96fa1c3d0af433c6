using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Workspaces;

/// <summary>
/// Idle auto-stop against the activity the gateway records in Redis (<c>ZADD activity &lt;unix-s&gt; &lt;sid&gt;</c>),
/// written here by the test as the gateway would. Timing is the behaviour, so the bounds are generous.
/// </summary>
public sealed class IdleStopTests(QuickIdlePlatform platform) : IClassFixture<QuickIdlePlatform>
{
    [Fact]
    public async Task A_workspace_in_use_keeps_running_and_an_unused_one_is_stopped_after_the_idle_timeout()
    {
        using var busyUser = await platform.NewUserAsync();
        using var idleUser = await platform.NewUserAsync();
        var busy = await busyUser.StartedAsync("busy");

        // Recorded from now on: starting the other one may take longer than the idle timeout.
        using var redis = platform.Redis.Connect();
        using var keepBusy = new CancellationTokenSource();
        var recording = Task.Run(async () =>
        {
            while (!keepBusy.IsCancellationRequested)
            {
                await redis.ExecuteAsync("ZADD", "activity", DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), busy);
                await Task.Delay(250);
            }
        });
        var idle = await idleUser.StartedAsync("idle");

        await Eventually.TrueAsync(async () => await idleUser.StateAsync(idle) == "Stopped", "the unused workspace is stopped", TimeSpan.FromSeconds(15));
        Assert.Equal("idle", (await idleUser.ViewAsync(idle))["stopCause"]!.GetValue<string>());
        var busyView = await busyUser.ViewAsync(busy);
        Assert.Equal("Running", busyView["state"]!.GetValue<string>());

        // The page says when the busy one was last used and when it would stop if left alone.
        var lastUsed = busyView["lastUsedAt"]!.GetValue<DateTimeOffset>();
        Assert.InRange(DateTimeOffset.UtcNow - lastUsed, TimeSpan.Zero - TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.Equal(lastUsed + QuickIdlePlatform.IdleTimeout, busyView["idleStopAt"]!.GetValue<DateTimeOffset>());

        await keepBusy.CancelAsync();
        await recording;
        var lastUse = DateTime.UtcNow;
        await Eventually.TrueAsync(async () => await busyUser.StateAsync(busy) == "Stopped", "the formerly busy workspace is stopped", TimeSpan.FromSeconds(15));
        Assert.True(DateTime.UtcNow - lastUse >= QuickIdlePlatform.IdleTimeout - TimeSpan.FromSeconds(1), "not stopped before its idle timeout");
    }

    [Fact]
    public async Task Nothing_is_stopped_while_the_activity_cannot_be_read()
    {
        using var user = await platform.NewUserAsync();
        var sid = await user.StartedAsync("kept");

        // Unreadable activity (a wrong type at the key) is unknown activity, not idleness.
        using var redis = platform.Redis.Connect();
        await redis.ExecuteAsync("DEL", "activity");
        await redis.ExecuteAsync("SET", "activity", "not a sorted set");
        try
        {
            await Task.Delay(QuickIdlePlatform.IdleTimeout * 3);
            Assert.Equal("Running", await user.StateAsync(sid));
        }
        finally
        {
            await redis.ExecuteAsync("DEL", "activity");
        }
    }
}
