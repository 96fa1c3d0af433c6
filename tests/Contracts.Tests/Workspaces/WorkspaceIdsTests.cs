using Contracts.Workspaces;

namespace Contracts.Tests.Workspaces;

public sealed class WorkspaceIdsTests
{
    [Fact]
    public void A_new_sid_is_a_dns_label_that_nobody_guesses()
    {
        var sids = Enumerable.Range(0, 10_000).Select(_ => WorkspaceIds.New()).ToList();
        Assert.All(sids, sid =>
        {
            Assert.Matches("^ws-[a-z2-7]{12}$", sid);
            Assert.Matches(WorkspaceIds.DnsLabel(), sid);
        });
        Assert.Equal(sids.Count, sids.Distinct(StringComparer.Ordinal).Count());

        // Every character of the alphabet turns up: the randomness is spread over all 32.
        Assert.Equal(32, sids.SelectMany(sid => sid[3..]).Distinct().Count());
    }

    [Theory]
    [InlineData("ws-abc", true)]
    [InlineData("a", true)]
    [InlineData("cloud-ide", true)]
    [InlineData("WS-ABC", false)]
    [InlineData("-ws", false)]
    [InlineData("ws-", false)]
    [InlineData("ws_abc", false)]
    [InlineData("ws.abc", false)]
    [InlineData("", false)]
    public void A_dns_label_is_what_kubernetes_accepts_as_a_name(string name, bool accepted) =>
        Assert.Equal(accepted, WorkspaceIds.DnsLabel().IsMatch(name));

    [Fact]
    public void A_dns_label_is_at_most_63_characters()
    {
        Assert.Matches(WorkspaceIds.DnsLabel(), new string('a', 63));
        Assert.DoesNotMatch(WorkspaceIds.DnsLabel(), new string('a', 64));
    }
}
