using Gateway.Configuration;

namespace Gateway.Tests.Configuration;

/// <summary>docs/configuration.md names every setting the gateway binds, and nothing it does not.</summary>
public sealed class ConfigurationReferenceTests
{
    [Fact]
    public void Every_setting_is_documented_and_every_documented_setting_exists()
    {
        var bindable = ConfigurationReference.Bindable(typeof(GatewayOptions), GatewayOptions.SectionName);
        var documented = ConfigurationReference.Documented(GatewayOptions.SectionName);

        Assert.Contains("Gateway:Routes:CacheTtl", bindable);
        Assert.Contains("Gateway:StaticRoutes:<>:Destination", bindable);
        Assert.Empty(bindable.Except(documented));
        Assert.Empty(documented.Except(bindable));
    }
}
