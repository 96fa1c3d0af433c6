using Gateway.Configuration;
using Gateway.Diagnostics;
using Gateway.Forwarding;
using Gateway.Routing;
using Microsoft.Extensions.Options;
using ServiceDefaults.Redis;
using StackExchange.Redis;

namespace Gateway.Activity;

/// <summary>
/// Records when each workspace was last used, for the web API's idle auto-stop: every
/// <see cref="ActivityOptions.FlushInterval"/>, one <c>ZADD activity &lt;unix-s&gt; &lt;sid&gt; ...</c> for the
/// workspaces that served a request meanwhile or hold an open tunnel (an open editor is in use: the
/// gateway cannot tell typing from an idle tab). The request path only sets a flag on its route; no lookup,
/// no allocation, no Redis. A round that cannot be written (Redis away, restarted, failing over) is kept and
/// written with the next one, at that round's time: a use is never lost, at worst recorded up to the outage
/// later than it happened, which delays an idle stop and never brings one forward.
/// </summary>
internal sealed partial class ActivityRecorder(
    IConnectionMultiplexer redis,
    RouteCache routes,
    OpenTunnels tunnels,
    IOptionsMonitor<GatewayOptions> options,
    TimeProvider time,
    RedisRefusals refusals,
    ILogger<ActivityRecorder> logger) : BackgroundService
{
    private static readonly TimeSpan WriteTimeout = TimeSpan.FromSeconds(2);

    private readonly LogBudget _failureLogs = LogBudget.PerSecond(time);

    // Written by the one flushing loop only.
    private HashSet<string>? _unwritten;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.CurrentValue;
        if (!settings.Activity.Enabled)
        {
            return;
        }

        var database = redis.GetDatabase();
        using var ticks = new PeriodicTimer(settings.Activity.FlushInterval, time);
        while (await ticks.WaitForNextTickAsync(stoppingToken))
        {
            var used = Collect();
            if (_unwritten is not null)
            {
                used.UnionWith(_unwritten);
            }

            if (used.Count == 0)
            {
                continue;
            }

            var now = time.GetUtcNow().ToUnixTimeSeconds();
            var key = options.CurrentValue.Activity.Key;
            try
            {
                SortedSetEntry[] members = [.. used.Select(sid => new SortedSetEntry(sid, now))];
                await database.SortedSetAddAsync(key, members).WaitAsync(WriteTimeout, stoppingToken);
                _unwritten = null;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                _unwritten = used;
                if (!_failureLogs.TryTake(out var suppressed))
                {
                    continue;
                }

                if (refusals.Explain(ex, "ZADD " + key) is { } refusal)
                {
                    LogWriteRefused(refusal, used.Count, suppressed);
                }
                else
                {
                    LogWriteFailed(used.Count, ex.GetBaseException().Message, suppressed);
                }
            }
        }
    }

    /// <summary>Sids used since the last round; clears their marks.</summary>
    internal HashSet<string> Collect()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var route in routes.Routes)
        {
            if (route.TakeUsed())
            {
                used.Add(route.Sid);
            }
        }

        foreach (var (sid, _) in tunnels.CountsBySid(int.MaxValue))
        {
            used.Add(sid);
        }

        return used;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record the activity of {Count} workspaces ({Reason}; {Suppressed} similar suppressed); kept for the next round, idle stop may come early for them if this lasts")]
    private partial void LogWriteFailed(int count, string reason, long suppressed);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Refusal}. The activity of {Count} workspaces was not recorded ({Suppressed} similar suppressed); idle stop may come early for them")]
    private partial void LogWriteRefused(string refusal, int count, long suppressed);
}
