using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Operator.Configuration;
using Operator.Leadership;
using Operator.Tests.Infrastructure;

namespace Operator.Tests.Leadership;

/// <summary>Two operator replicas on one Lease in the fake API server: never both leading, and a quick handover.</summary>
public sealed class LeaseLeaderElectorTests : IAsyncLifetime
{
    private const string LeaseNs = "operator-system";

    // Long enough that a loaded machine (other test classes run meanwhile) does not delay a renewal past it.
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(4);
    private FakeApiServer _api = null!;

    public async Task InitializeAsync() => _api = await FakeApiServer.StartAsync();

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Of_two_candidates_one_leads_and_the_other_waits_until_it_lets_go()
    {
        var first = NewElector();
        var second = NewElector();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        var firstLeads = await first.AcquireAsync(stop.Token);
        var secondAcquire = second.AcquireAsync(stop.Token);

        // Longer than a renew interval many times over: the holder keeps renewing, so the other never gets in.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.False(secondAcquire.IsCompleted);
        Assert.False(firstLeads.IsCancellationRequested);
        Assert.Equal(first.Identity, Holder());

        // A replica shutting down hands over at once instead of letting the lease run out.
        var released = DateTime.UtcNow;
        await first.DisposeAsync();
        Assert.True(firstLeads.IsCancellationRequested);
        var secondLeads = await secondAcquire;
        Assert.True(DateTime.UtcNow - released < LeaseDuration - TimeSpan.FromSeconds(1), "handed over, not waited out");
        Assert.Equal(second.Identity, Holder());
        Assert.False(secondLeads.IsCancellationRequested);
        await second.DisposeAsync();
    }

    [Fact]
    public async Task A_leader_that_cannot_renew_stops_acting_before_another_may_take_over()
    {
        var leader = NewElector();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var leading = await leader.AcquireAsync(stop.Token);
        var lost = new TaskCompletionSource();
        leading.Register(() => lost.TrySetResult());

        // Someone else takes the lease over (an operator with a clock far ahead, or a manual edit).
        _api.Leases.Patch(LeaseNs, "workspace-operator", System.Text.Json.Nodes.JsonNode.Parse("""{"spec":{"holderIdentity":"intruder"}}""")!.AsObject(), status: false);

        await lost.Task.WaitAsync(TimeSpan.FromSeconds(3));
        Assert.Equal("intruder", Holder());
        await leader.DisposeAsync();
        Assert.Equal("intruder", Holder());
    }

    [Fact]
    public async Task A_lease_whose_holder_stopped_renewing_is_taken_over_after_its_duration()
    {
        var crashed = NewElector();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var crashedStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        await crashed.AcquireAsync(crashedStop.Token);

        // Its renewals stop without a release (the process died).
        await crashedStop.CancelAsync();
        var started = DateTime.UtcNow;
        var successor = NewElector();
        await successor.AcquireAsync(stop.Token);

        var waited = DateTime.UtcNow - started;
        Assert.True(waited >= LeaseDuration - TimeSpan.FromSeconds(0.5), $"took over after {waited}: not before the lease duration");
        Assert.Equal(successor.Identity, Holder());
        Assert.Equal(1, _api.Leases.Get(LeaseNs, "workspace-operator")!["spec"]!["leaseTransitions"]!.GetValue<int>());
        await successor.DisposeAsync();
    }

    private LeaseLeaderElector NewElector()
    {
        var options = new OperatorOptions();
        options.Kubernetes.LeaderElection.LeaseDuration = LeaseDuration;
        options.Kubernetes.LeaderElection.RenewInterval = TimeSpan.FromMilliseconds(500);
        return new LeaseLeaderElector(_api.CreateClient(), Options.Create(options), new LeaseNamespace(LeaseNs), TimeProvider.System, NullLogger<LeaseLeaderElector>.Instance);
    }

    private string? Holder() => _api.Leases.Get(LeaseNs, "workspace-operator")?["spec"]?["holderIdentity"]?.GetValue<string>();
}
