using Gateway;
using ServiceDefaults.Hosting;

// Socket completions run on the epoll thread instead of hopping to the thread pool: the gateway does
// no blocking work there (Redis calls are asynchronous all the way), and on one core every hop is a context
// switch (measured before and after: docs/performance.md). Read once, before the first socket; an operator's own
// value, including 0, wins.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}

return await PlatformHosting.RunAsync(() => GatewayApplication.Create(args), GatewayApplication.Program);
