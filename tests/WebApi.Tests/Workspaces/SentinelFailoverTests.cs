using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using StackExchange.Redis;
using WebApi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace WebApi.Tests.Workspaces;

/// <summary>
/// The platform on a Sentinel-managed Redis whose primary dies: the operator's route writes and the web
/// API's reads of the gateway's activity carry on against the promoted replica, without a restart.
/// </summary>
public sealed class SentinelFailoverTests(SentinelPlatform platform, ITestOutputHelper output) : IClassFixture<SentinelPlatform>
{
    [Fact]
    public async Task After_a_failover_routes_are_written_and_activity_is_read_from_the_new_primary()
    {
        var sentinels = platform.Sentinels!;
        using var keptUser = await platform.NewUserAsync();
        using var idledUser = await platform.NewUserAsync();
        var kept = await keptUser.StartedAsync("kept");
        var idled = await idledUser.StartedAsync("idled");

        // The gateway's part, played by the test: activity for both, through the failover (a failover takes
        // 2-3 s here, well inside the idle timeout, so the one still in use is never idle for long enough).
        using var redis = new RedisTestClient(platform.RedisConfiguration);
        var idledStillUsed = true;
        using var stopRecording = new CancellationTokenSource();
        var recording = Task.Run(async () =>
        {
            while (!stopRecording.IsCancellationRequested)
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
                try
                {
                    await redis.ExecuteAsync("ZADD", "activity", now, kept);
                    if (Volatile.Read(ref idledStillUsed))
                    {
                        await redis.ExecuteAsync("ZADD", "activity", now, idled);
                    }
                }
                catch (Exception ex) when (ex is RedisException or TimeoutException)
                {
                    // The primary is gone; the next round goes to the new one.
                }

                await Task.Delay(250);
            }
        });

        var oldPrimary = await sentinels.CurrentPrimaryPortAsync();
        var clock = Stopwatch.StartNew();
        sentinels.KillPrimary();
        await sentinels.WaitForNewPrimaryAsync(oldPrimary, TimeSpan.FromSeconds(60));
        var promoted = clock.Elapsed;

        // The operator writes the route of a workspace started now to the new primary.
        using var laterUser = await platform.NewUserAsync();
        var later = await laterUser.StartedAsync("later");
        var started = clock.Elapsed;
        var route = (string?)await redis.ExecuteAsync("HGET", "hosts", later);
        Assert.NotNull(route);

        // The web API reads activity from the new primary: the workspace still in use keeps running, the
        // one nobody uses any more is stopped once its idle time has passed (nothing is stopped while the
        // activity cannot be read, so a stop proves the reads work again).
        Volatile.Write(ref idledStillUsed, false);
        await Eventually.TrueAsync(async () => await idledUser.StateAsync(idled) == "Stopped", "the unused workspace is stopped", SentinelPlatform.IdleTimeout * 4);
        var idleStopped = clock.Elapsed;
        Assert.Equal("Running", await keptUser.StateAsync(kept));

        await stopRecording.CancelAsync();
        await recording;
        output.WriteLine($"after the primary was killed: promoted at {promoted.TotalSeconds:F1} s; a workspace started through the operator (route {route}) by {started.TotalSeconds:F1} s; an idle one stopped at {idleStopped.TotalSeconds:F1} s (idle timeout {SentinelPlatform.IdleTimeout.TotalSeconds} s)");
    }
}
