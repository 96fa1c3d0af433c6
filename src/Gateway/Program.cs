using Gateway;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

// Socket completions run on the epoll thread instead of hopping to the thread pool: the gateway does
// no blocking work there (Redis calls are asynchronous all the way), and on one core every hop is a context
// switch (measured before and after: README "Performance"). Read once, before the first socket; an operator's own
// value, including 0, wins.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}

try
{
    var app = GatewayApplication.Create(args);
    await app.RunAsync();
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
