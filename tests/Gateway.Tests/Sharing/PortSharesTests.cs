using Contracts.Sharing;

namespace Gateway.Tests.Sharing;

/// <summary>The stored spelling the operator writes and the gateway reads (ServiceDefaults, shared by both).</summary>
public sealed class PortSharesTests
{
    [Fact]
    public void Reads_what_the_operator_writes_and_writes_it_back_the_same()
    {
        Assert.True(PortShares.TryParse("8080=authenticated,3000=public", out var shares));
        Assert.Equal(PortSharing.Public, shares.For(3000));
        Assert.Equal(PortSharing.Authenticated, shares.For(8080));
        Assert.Equal(PortSharing.Private, shares.For(80));
        Assert.Equal("3000=public,8080=authenticated", shares.ToString());

        var built = PortShares.From([(8080, PortSharing.Authenticated), (3000, PortSharing.Public), (5000, PortSharing.Private)]);
        Assert.True(built.SameAs(shares));
    }

    [Theory]
    [InlineData("")]
    [InlineData("3000=private")]
    public void Nothing_shared_reads_as_every_port_private(string value)
    {
        Assert.True(PortShares.TryParse(value, out var shares));
        Assert.Equal(0, shares.Count);
        Assert.Equal(PortSharing.Private, shares.For(3000));
    }

    [Theory]
    [InlineData("3000")]
    [InlineData("3000=")]
    [InlineData("=public")]
    [InlineData("3000=Public")]
    [InlineData("3000=public,")]
    [InlineData("3000=public;8080=public")]
    [InlineData(" 3000=public")]
    [InlineData("+3000=public")]
    [InlineData("03000=public")]
    [InlineData("0=public")]
    [InlineData("65536=public")]
    [InlineData("99999999999=public")]
    [InlineData("3000=everyone")]
    public void Anything_else_is_refused(string value) => Assert.False(PortShares.TryParse(value, out _));

    [Fact]
    public void A_value_listing_more_ports_than_allowed_is_refused()
    {
        var many = string.Join(',', Enumerable.Range(1000, PortShares.MaxPorts + 1).Select(p => $"{p}=public"));
        Assert.False(PortShares.TryParse(many, out _));
    }
}
