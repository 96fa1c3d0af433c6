using System.Diagnostics;
using Bench.Servers;

namespace Bench.Load;

/// <param name="ListeningAfterSeconds">From the process start to its port accepting connections.</param>
/// <param name="RequestsPerSecond">Closed-loop req/s in each second after it listened.</param>
/// <param name="SecondsToFullSpeed">The first second after listening that reached 90% of the last five seconds' median.</param>
internal sealed record StartupRun(double ListeningAfterSeconds, double[] RequestsPerSecond, int SecondsToFullSpeed);

internal static class StartupScenario
{
    /// <summary>
    /// A gateway started cold, as an operator starts it (no runtime environment variables), loaded from its
    /// first second: how long until it runs at full speed. The runtime optimises hot code only after it has
    /// been called for a while, and on one CPU it waits ten times longer unless told otherwise.
    /// </summary>
    public static async Task<StartupRun> RunAsync(BenchStack stack, string gatewayDirectory, int connections, int seconds)
    {
        var clock = Stopwatch.StartNew();
        using var gateway = await stack.StartFreshGatewayAsync(gatewayDirectory);
        var listening = clock.Elapsed.TotalSeconds;
        var perSecond = new double[seconds];
        for (var second = 0; second < seconds; second++)
        {
            var run = await HttpLoad.ClosedLoopAsync(gateway.Target, gateway.Target.HttpPath, connections, TimeSpan.FromSeconds(1), $"start-up second {second + 1}");
            perSecond[second] = run.RequestsPerSecond;
        }

        var steady = perSecond[^Math.Min(5, seconds)..].Order().ElementAt(Math.Min(5, seconds) / 2);
        var full = Array.FindIndex(perSecond, rate => rate >= 0.9 * steady);
        return new StartupRun(listening, perSecond, full + 1);
    }
}
