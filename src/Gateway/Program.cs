using Gateway;
using Microsoft.Extensions.Options;

try
{
    await GatewayApplication.Create(args).RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    // A bad config/gateway.json is the operator's to fix: say which keys, not a stack trace.
    await Console.Error.WriteLineAsync("Invalid gateway configuration:");
    foreach (var failure in ex.Failures)
    {
        await Console.Error.WriteLineAsync("  " + failure);
    }

    return 2;
}
catch (FileNotFoundException ex) when (ex.FileName?.EndsWith(".json", StringComparison.OrdinalIgnoreCase) == true)
{
    await Console.Error.WriteLineAsync($"Gateway settings file not found: {ex.FileName} (set {GatewayApplication.ConfigFileVariable} or --{GatewayApplication.ConfigFileKey}=<path>).");
    return 2;
}
