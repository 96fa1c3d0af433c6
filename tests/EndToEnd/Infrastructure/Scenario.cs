using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Playwright;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace EndToEnd.Infrastructure;

/// <summary>
/// Named steps of a browser scenario on the platform run.sh started. A failed step says which one, and
/// what it saw: the failing HTTP answers the browsers got, what run.sh printed, and the ends
/// of the gateway's, the operator's, the web API's and the workspace editors' logs.
/// </summary>
public sealed class Scenario(RunScript platform, ITestOutputHelper output)
{
    private readonly ConcurrentQueue<string> _seen = new();
    private readonly ConcurrentDictionary<string, bool> _sids = new();

    /// <summary>Records every answer of 400 and above this browser context gets.</summary>
    public void Watch(IBrowserContext context, string who)
    {
        context.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                // Without the query: a first navigation carries a ticket.
                Saw($"{who}: {response.Status} {response.Request.Method} {response.Url.Split('?')[0]}");
            }
        };
    }

    public void Saw(string what) => _seen.Enqueue(what);

    /// <summary>A workspace whose editor log belongs in a failure report.</summary>
    public void Involves(string sid) => _sids[sid] = true;

    public async Task StepAsync(string name, Func<Task> body)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await body();
        }
        catch (Exception failure)
        {
            throw new XunitException($"Step '{name}' failed after {watch.Elapsed.TotalSeconds:0.0} s: {failure}\n\n{Report()}");
        }

        output.WriteLine($"{name}: {watch.Elapsed.TotalSeconds:0.0} s");
    }

    private string Report()
    {
        var parts = new List<string>
        {
            "--- answers >= 400 the browsers got ---\n" + (_seen.IsEmpty ? "(none)" : string.Join('\n', _seen.TakeLast(30))),
            "--- run.sh printed ---\n" + platform.Output,
            platform.Tail("logs/gateway.log"),
            platform.Tail("logs/operator.log"),
            platform.Tail("logs/webapi.log"),
        };
        parts.AddRange(_sids.Keys.Select(sid => platform.Tail($"workspaces/.editors/{sid}.log")));
        return string.Join("\n\n", parts);
    }
}
