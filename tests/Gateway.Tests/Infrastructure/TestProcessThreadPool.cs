using System.Runtime.CompilerServices;
using ServiceDefaults.Threading;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// This process hosts at once what production spreads over many: gateways, backends, Redis clients and
/// xUnit's fixtures, whose constructors are synchronous and block pool threads while they connect. With the
/// pool's default minimum (one thread per core; two on CI) a burst of them starved the rest for seconds:
/// a Redis reply already in the socket waited over 1 s for a thread (RedisTimeoutException, "QueuedItems=13"),
/// and an in-process gateway's forward outlived a 2-s activity timeout. Tests that judge the gateway's own
/// pool run it as a separate process (<see cref="GatewayProcess"/>).
/// </summary>
internal static class TestProcessThreadPool
{
    [ModuleInitializer]
    internal static void RaiseMinimum() => ThreadPoolMinimum.RaiseTo(32);
}
