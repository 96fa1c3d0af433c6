namespace ServiceDefaults.Hosting;

/// <summary>What tells one of the three programs apart where they are otherwise set up alike.</summary>
/// <param name="DisplayName">How its messages name it to an operator ("gateway", "web API").</param>
/// <param name="ServiceName">Its name to Redis (CLIENT LIST) and, by default, in telemetry.</param>
/// <param name="Section">Its configuration section ("Gateway"): Redis and telemetry settings are read below it.</param>
/// <param name="ConfigFileVariable">The environment variable naming its settings file.</param>
/// <param name="ConfigFileName">Its settings file beside the binary when nothing names another.</param>
public sealed record PlatformProgram(string DisplayName, string ServiceName, string Section, string ConfigFileVariable, string ConfigFileName)
{
    /// <summary>Its own meters, exported beside ASP.NET Core's, HttpClient's and the runtime's.</summary>
    public IReadOnlyList<string> Meters { get; init; } = [];

    /// <summary>Its own activity sources, traced beside ASP.NET Core's and HttpClient's.</summary>
    public IReadOnlyList<string> ActivitySources { get; init; } = [];

    /// <summary>Whether its settings file is read again when it changes (the gateway's routes and keys).</summary>
    public bool ReloadSettingsOnChange { get; init; }
}
