using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace ServiceDefaults.Hosting;

/// <summary>How the three programs read their settings and start: one way, so they cannot drift apart.</summary>
public static class PlatformHosting
{
    /// <summary>The command-line or configuration key naming the settings file (beside each program's variable).</summary>
    public const string ConfigFileKey = "ConfigFile";

    /// <summary>
    /// Reads the program's settings file (<c>--ConfigFile=</c>, else <paramref name="fileVariable"/>, else
    /// <paramref name="defaultFileName"/> beside the binary), then the environment and the command line again, so
    /// that <c>Program__Key=…</c> and <c>--Program:Key=…</c> still win over the file; no <c>Server</c> header.
    /// </summary>
    public static WebApplicationBuilder UsePlatformConfiguration(
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
    public static async Task<int> RunAsync(Func<WebApplication> create, string programName, string fileVariable, Func<Exception, string?>? explain = null)
    {
        try
        {
            var app = create();
            await app.RunAsync();
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Invalid {programName} configuration:");
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("  " + failure);
            }

            return 2;
        }
        catch (SettingsFileNotFound ex)
        {
            await Console.Error.WriteLineAsync($"The {programName} settings file was not found: {ex.FileName} (set {fileVariable} or --{ConfigFileKey}=<path>).");
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
