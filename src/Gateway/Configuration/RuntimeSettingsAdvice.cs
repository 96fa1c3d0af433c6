namespace Gateway.Configuration;

/// <summary>
/// Runtime settings the gateway cannot set for itself because the runtime reads them before <c>Main</c>:
/// said once at start-up when they are missing where they matter.
/// </summary>
internal static partial class RuntimeSettingsAdvice
{
    internal const string TierUpDelayMultiplier = "DOTNET_TC_DelaySingleProcMultiplier";

    /// <summary>
    /// On one CPU the runtime waits 10x longer before optimising hot code; measured on one core: ~45 s of
    /// half-speed proxying after every start, ~10 s with the multiplier at 1 (issue #3).
    /// </summary>
    public static void Log(ILogger logger)
    {
        if (Environment.ProcessorCount == 1 && Environment.GetEnvironmentVariable(TierUpDelayMultiplier) is null)
        {
            LogSlowTierUp(logger, TierUpDelayMultiplier);
        }
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "One CPU and {Variable} unset: hot code is optimised ~45 s after start instead of ~10 s; set it to 1 as the Dockerfile does")]
    private static partial void LogSlowTierUp(ILogger logger, string variable);
}
