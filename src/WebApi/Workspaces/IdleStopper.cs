using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using ServiceDefaults.Redis;
using StackExchange.Redis;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Workspaces;

/// <summary>
/// Stops workspaces nobody has used for <see cref="IdleStopOptions.IdleTimeout"/> (the old
/// platform had no such thing). The gateway records use in the Redis sorted set <c>activity</c> (member =
/// sid, score = unix seconds of the last request or tunnel traffic); a workspace running for longer than
/// the timeout without a recent score is stopped through the same path as the Stop button. When Redis
/// cannot be read nothing is stopped: unknown is not idle.
/// </summary>
internal sealed partial class IdleStopper(
    IServiceProvider services,
    IServiceScopeFactory scopes,
    WorkspaceActivity activity,
    IOptions<WebApiOptions> options,
    TimeProvider time,
    ILogger<IdleStopper> logger) : BackgroundService
{
    // Entries this old belong to workspaces long stopped or deleted; trimmed so the set stays small.
    private static readonly TimeSpan Retention = TimeSpan.FromDays(7);

    private static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(5);

    private readonly IdleStopOptions _options = options.Value.IdleStop;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        // Resolved only when enabled: the connection is not opened for nothing.
        var redis = services.GetRequiredService<IConnectionMultiplexer>().GetDatabase();
        var refusals = services.GetRequiredService<RedisRefusals>();
        // The first round at once: the page shows "last used" and when a stop is due from the start.
        using var ticks = new PeriodicTimer(_options.CheckInterval, time);
        do
        {
            try
            {
                await CheckAsync(redis, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Whatever failed, the next round tries again; an exception escaping would stop the web API.
                if (refusals.Explain(ex, "reading " + _options.ActivityKey) is { } refusal)
                {
                    LogRedisRefused(refusal);
                }
                else if (ex is RedisException or TimeoutException)
                {
                    LogActivityUnavailable(ex.GetBaseException().Message);
                }
                else
                {
                    LogCheckFailed(ex);
                }
            }
        }
        while (await ticks.WaitForNextTickAsync(stoppingToken));
    }

    internal async Task CheckAsync(IDatabase redis, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var since = now - _options.IdleTimeout;
        var lastUsed = (await redis.SortedSetRangeByScoreWithScoresAsync(_options.ActivityKey, (now - Retention).ToUnixTimeSeconds()).WaitAsync(CallTimeout, cancellationToken))
            .ToFrozenDictionary(entry => (string)entry.Element!, entry => DateTimeOffset.FromUnixTimeSeconds((long)entry.Score), StringComparer.Ordinal);
        activity.Publish(lastUsed);

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebApiDb>();
        var workspaces = scope.ServiceProvider.GetRequiredService<WorkspaceLifecycle>();

        // A workspace started less than the timeout ago gets the whole timeout before it can be idle.
        var candidates = (await db.Workspaces.AsNoTracking()
                .Where(w => w.State == WorkspaceState.Running)
                .Select(w => new { w.Id, w.Sid, w.StartedAt })
                .ToListAsync(cancellationToken))
            .Where(w => w.StartedAt is null || w.StartedAt < since)
            .Where(w => !(lastUsed.TryGetValue(w.Sid, out var used) && used.ToUnixTimeSeconds() >= since.ToUnixTimeSeconds()));
        foreach (var idle in candidates)
        {
            var outcome = await workspaces.StopIdleAsync(idle.Id, idle.Sid, cancellationToken);
            if (outcome is { Succeeded: true })
            {
                LogStopped(idle.Sid, _options.IdleTimeout);
            }
            else if (outcome is not null)
            {
                LogStopFailed(idle.Sid, outcome.Detail);
            }
        }

        await redis.SortedSetRemoveRangeByScoreAsync(_options.ActivityKey, double.NegativeInfinity, (now - Retention).ToUnixTimeSeconds()).WaitAsync(CallTimeout, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Workspace {Sid} stopped: idle for more than {IdleTimeout}")]
    private partial void LogStopped(string sid, TimeSpan idleTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Workspace {Sid} is idle but could not be stopped: {Detail}")]
    private partial void LogStopFailed(string sid, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idle check skipped: the activity could not be read ({Reason}); nothing stopped")]
    private partial void LogActivityUnavailable(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Refusal}. Idle check skipped; nothing stopped")]
    private partial void LogRedisRefused(string refusal);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idle check skipped (activity or database unavailable); nothing stopped")]
    private partial void LogCheckFailed(Exception exception);
}
