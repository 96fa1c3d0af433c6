using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ServiceDefaults.Redis;
using ServiceDefaults.Telemetry;

namespace ServiceDefaults.Hosting;

/// <summary>How the three programs read their settings, connect and start: one way, so they cannot drift apart.</summary>
public static class PlatformHosting
{
    /// <summary>
    /// What the three programs set up alike: their settings (file, environment, command line), OpenTelemetry
    /// export (<c>&lt;Section&gt;:Telemetry</c>), one Redis connection as their own user (<c>&lt;Section&gt;:Redis</c>,
    /// read through <paramref name="redis"/> once the options are validated) and health checks, to which each
    /// adds its readiness (<see cref="Health.PlatformEndpoints.ReadinessTag"/>).
    /// </summary>
    public static WebApplicationBuilder AddPlatformDefaults(
        this WebApplicationBuilder builder, PlatformProgram program, string[] args, Func<IServiceProvider, RedisConnectionOptions> redis)
    {
        builder.UsePlatformConfiguration(args, program.ConfigFileVariable, program.ConfigFileName, program.ReloadSettingsOnChange);
        builder.Services.AddTelemetryExport(builder.Configuration, program.Section + ":Telemetry", program.ServiceName, program.Meters, program.ActivitySources);
        builder.Services.AddRedis(program.ServiceName, program.Section + ":Redis", redis);
        builder.Services.AddHealthChecks();

        // A failing check would be logged on every probe (every few seconds, by every replica): the cause is
        // logged once by what meets it (the Redis connection, the database provider), and /readyz says it.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks", LogLevel.None);
        return builder;
    }

    /// <summary>The command-line or configuration key naming the settings file (beside each program's variable).</summary>
    public const string ConfigFileKey = "ConfigFile";

    /// <summary>
    /// Reads the program's settings file (<c>--ConfigFile=</c>, else <paramref name="fileVariable"/>, else
    /// <paramref name="defaultFileName"/> beside the binary), then the environment and the command line again, so
    /// that <c>Program__Key=…</c> and <c>--Program:Key=…</c> still win over the file; no <c>Server</c> header.
    /// </summary>
    private static WebApplicationBuilder UsePlatformConfiguration(
        this WebApplicationBuilder builder, string[] args, string fileVariable, string defaultFileName, bool reloadOnChange = false)
    {
        var configFile = builder.Configuration[ConfigFileKey]
            ?? Environment.GetEnvironmentVariable(fileVariable)
            ?? Path.Combine(AppContext.BaseDirectory, defaultFileName);
        var path = Path.GetFullPath(configFile);

        // Checked here: the configuration's own error names a folder it could not open, not the file.
        if (!File.Exists(path))
        {
            throw new SettingsFileNotFound(path);
        }

        builder.Configuration.AddJsonFile(path, optional: false, reloadOnChange);
        builder.Configuration.AddEnvironmentVariables();
        builder.Configuration.AddCommandLine(args);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.AddServerHeader = false);
        return builder;
    }

    /// <summary>
    /// Builds and runs a program. Settings that cannot work end it with exit code 2 and sentences naming the
    /// keys (an operator's to fix: not a stack trace); so does a missing settings file, and whatever
    /// <paramref name="explain"/> recognises (its sentence, or null for an unexpected failure).
    /// </summary>
    public static async Task<int> RunAsync(Func<WebApplication> create, PlatformProgram program, Func<Exception, string?>? explain = null)
    {
        try
        {
            var app = create();
            await app.RunAsync();
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Invalid {program.DisplayName} configuration:");
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("  " + failure);
            }

            return 2;
        }
        catch (SettingsFileNotFound ex)
        {
            await Console.Error.WriteLineAsync($"The {program.DisplayName} settings file was not found: {ex.FileName} (set {program.ConfigFileVariable} or --{ConfigFileKey}=<path>).");
            return 2;
        }
        catch (Exception ex) when (explain?.Invoke(ex) is { } sentence)
        {
            await Console.Error.WriteLineAsync(sentence);
            return 2;
        }
    }

    // Only the settings file itself: another file missing at start (a password file) has its own sentence.
    private sealed class SettingsFileNotFound(string path) : FileNotFoundException("settings file not found", path);
}
