using System.Net;
using Gateway.Diagnostics;
using Gateway.Tests.Infrastructure;

namespace Gateway.Tests.Diagnostics;

/// <summary>A dead workspace or Redis fails every request the same way; the log must not fail with it.</summary>
public sealed class LogStormTests(GatewayWithBackends env) : IClassFixture<GatewayWithBackends>
{
    [Fact]
    public async Task Hundreds_of_failures_to_a_dead_workspace_write_a_handful_of_lines_that_count_the_rest()
    {
        var sid = "dead" + Guid.NewGuid().ToString("N")[..8];
        await env.Writer.SetRouteAsync(sid, $"127.0.0.1:{FreePort.Next()}");
        await using var gateway = GatewayProcess.Start(("Gateway__Redis__Configuration", env.Redis.Configuration));
        await gateway.WhenServingAsync(client => client.GetAsync(new Uri("/healthz", UriKind.Relative)));

        const int Requests = 400;
        var statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            var codes = new List<HttpStatusCode>();
            for (var i = 0; i < Requests / 8; i++)
            {
                using var response = await gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative));
                codes.Add(response.StatusCode);
            }

            return codes;
        }));
        Assert.All(statuses.SelectMany(s => s), status => Assert.Equal(HttpStatusCode.BadGateway, status));

        // One more after the window closes reports how many were held back.
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        using (await gateway.Client.GetAsync(new Uri($"/ws/{sid}/", UriKind.Relative)))
        {
        }

        var lines = await gateway.CountLinesAsync($"Forwarding to workspace {sid}", TimeSpan.FromMilliseconds(500));
        Assert.InRange(lines, 1, 30);
        Assert.Contains(gateway.Output, line => line.Contains(sid, StringComparison.Ordinal) && !line.Contains("\"Suppressed\":0", StringComparison.Ordinal));
    }

    [Fact]
    public void A_budget_lets_a_few_lines_through_per_interval_and_reports_the_rest_with_the_next()
    {
        var time = new ManualTimeProvider();
        var budget = new LogBudget(time, linesPerInterval: 3, TimeSpan.FromSeconds(1));

        var taken = Enumerable.Range(0, 10).Count(_ => budget.TryTake(out long _));
        Assert.Equal(3, taken);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(budget.TryTake(out var suppressed));
        Assert.Equal(7, suppressed);
        Assert.True(budget.TryTake(out suppressed));
        Assert.Equal(0, suppressed);
    }
}
