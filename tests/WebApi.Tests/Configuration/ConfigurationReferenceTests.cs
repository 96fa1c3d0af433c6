using WebApi.Configuration;

namespace WebApi.Tests.Configuration;

/// <summary>docs/configuration.md names every setting the web API binds, and nothing it does not.</summary>
public sealed class ConfigurationReferenceTests
{
    [Fact]
    public void Every_setting_is_documented_and_every_documented_setting_exists()
    {
        var bindable = ConfigurationReference.Bindable(typeof(WebApiOptions), WebApiOptions.SectionName);
        var documented = ConfigurationReference.Documented(WebApiOptions.SectionName);

        Assert.Contains("WebApi:Mail:Host", bindable);
        Assert.Empty(bindable.Except(documented));
        Assert.Empty(documented.Except(bindable));
    }
}
