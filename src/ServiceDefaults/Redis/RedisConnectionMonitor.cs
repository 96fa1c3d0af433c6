using System.Security.Authentication;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ServiceDefaults.Redis;

/// <summary>
/// Keeps a program's Redis sign-in current and says in words why it fails. Every few seconds it re-reads the
/// password file, so a rotated Secret is used from the next (re)connection without a restart: the
/// multiplexer reads its options' password each time it connects. While the multiplexer is not connected
/// it tries one connection of its own, whose error says what the multiplexer's retries do not (they raise
/// no event after the first failure): a refused password, a user without a right to sign in, a TLS
/// certificate not trusted, or a server that does not answer.
/// </summary>
public sealed partial class RedisConnectionMonitor : IAsyncDisposable
{
    /// <summary>How often the password file is re-read and a lost connection diagnosed.</summary>
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);

    // The same problem is said again this often while it lasts, so a log read later still shows it.
    private static readonly TimeSpan RepeatInterval = TimeSpan.FromMinutes(1);

    private readonly RedisConnectionOptions _settings;
    private readonly string _section;
    private readonly ConfigurationOptions _options;
    private readonly string _user;
    private readonly ILogger<RedisConnectionMonitor> _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private Task _loop = Task.CompletedTask;
    private string? _lastProblem;
    private DateTimeOffset _lastSaid;

    public RedisConnectionMonitor(RedisSignIn signIn, ILogger<RedisConnectionMonitor> logger, TimeProvider? time = null)
    {
        _settings = signIn.Settings;
        _section = signIn.Section;
        _options = signIn.Options;
        _user = signIn.User;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Starts watching; the first check runs at once, so a start-up that cannot sign in says why right away.</summary>
    public void Watch(IConnectionMultiplexer multiplexer) => _loop = RunAsync(multiplexer, _stopping.Token);

    /// <summary>The sentence this monitor logs for a connection attempt that failed with <paramref name="error"/>.</summary>
    public string Explain(Exception error)
    {
        var endpoints = string.Join(", ", _options.EndPoints);
        var serverSaid = Innermost(error).Message;
        if (IsTlsFailure(error))
        {
            return $"Redis at {endpoints} was reached, but its TLS certificate is not trusted ({serverSaid}): {_section}:TlsCaFile must name the CA that signed it, and the host name must be one the certificate names";
        }

        if (IsAuthenticationFailure(error))
        {
            var where = string.IsNullOrEmpty(_settings.PasswordFile)
                ? $"{_section}:Configuration"
                : $"{_section}:PasswordFile ({_settings.PasswordFile})";
            return $"Redis at {endpoints} refused to sign in user '{_user}' ({serverSaid}): check {_section}:User and the password in {where}; the user's entry in the Redis ACL (config/redis-users.acl) must hold that password";
        }

        return $"Redis at {endpoints} is not reachable ({serverSaid}); retrying every {RedisConfiguration.ReconnectInterval.TotalMilliseconds:0} ms";
    }

    private async Task RunAsync(IConnectionMultiplexer multiplexer, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, _time);
        do
        {
            try
            {
                ReloadPassword();
                await CheckConnectionAsync(multiplexer, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A check that fails must not end the checks; the next round tries again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogCheckFailed(_logger, ex);
            }
        }
        while (await WaitAsync(timer, cancellationToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void ReloadPassword()
    {
        if (string.IsNullOrEmpty(_settings.PasswordFile))
        {
            return;
        }

        string? password;
        try
        {
            password = _settings.ReadPassword();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A Secret volume swaps its files through a symlink; a read between the two is retried next round.
            LogPasswordUnreadable(_logger, _section, _settings.PasswordFile, ex.Message);
            return;
        }

        if (password is not null && password != _options.Password)
        {
            _options.Password = password;
            LogPasswordChanged(_logger, _section, _settings.PasswordFile);
        }
    }

    private async Task CheckConnectionAsync(IConnectionMultiplexer multiplexer, CancellationToken cancellationToken)
    {
        if (multiplexer.IsConnected)
        {
            if (_lastProblem is not null)
            {
                LogConnectedAgain(_logger, _user);
                _lastProblem = null;
            }

            return;
        }

        if (await DiagnoseAsync(cancellationToken) is not { } problem)
        {
            return;
        }

        var now = _time.GetUtcNow();
        if (problem.Sentence == _lastProblem && now - _lastSaid < RepeatInterval)
        {
            return;
        }

        _lastProblem = problem.Sentence;
        _lastSaid = now;
        if (problem.Refused)
        {
            LogRefused(_logger, problem.Sentence);
        }
        else
        {
            LogUnreachable(_logger, problem.Sentence);
        }
    }

    /// <summary>One connection attempt with the program's own options; null when it succeeds (the multiplexer is about to).</summary>
    private async Task<(string Sentence, bool Refused)?> DiagnoseAsync(CancellationToken cancellationToken)
    {
        var probe = _options.Clone();
        probe.AbortOnConnectFail = true;
        probe.ConnectRetry = 1;
        probe.ClientName = _options.ClientName + "-check";
        try
        {
            await using var connection = await ConnectionMultiplexer.ConnectAsync(probe).WaitAsync(cancellationToken);
            return null;
        }
        catch (Exception ex) when (ex is RedisException or AuthenticationException or IOException or TimeoutException)
        {
            return (Explain(ex), IsAuthenticationFailure(ex) || IsTlsFailure(ex));
        }
    }

    private static bool IsAuthenticationFailure(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e.Message.Contains("WRONGPASS", StringComparison.Ordinal)
                || e.Message.Contains("NOAUTH", StringComparison.Ordinal)
                || e.Message.Contains("authentication failure", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static bool IsTlsFailure(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            if (e is AuthenticationException)
            {
                return true;
            }
        }

        return false;
    }

    private static Exception Innermost(Exception error)
    {
        while (error.InnerException is { Message.Length: > 0 } inner)
        {
            error = inner;
        }

        return error;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _loop;
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Problem}")]
    private static partial void LogRefused(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Problem}")]
    private static partial void LogUnreachable(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis answers again, signed in as '{User}'")]
    private static partial void LogConnectedAgain(ILogger logger, string user);

    [LoggerMessage(Level = LogLevel.Information, Message = "The Redis password in {Section}:PasswordFile ({File}) changed; it is used from the next connection")]
    private static partial void LogPasswordChanged(ILogger logger, string section, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Section}:PasswordFile ({File}) cannot be read now ({Detail}); the password read before is kept")]
    private static partial void LogPasswordUnreadable(ILogger logger, string section, string file, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Checking the Redis connection failed; trying again in a few seconds")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
