using WebApi.Configuration;

namespace WebApi.Tests.Configuration;

public sealed class ConfigurationReferenceTests
{
    /// <summary>docs/configuration.md names every setting the web API binds, and nothing it does not.</summary>
    [Fact]
    public void Every_setting_is_documented_and_every_documented_setting_exists() =>
        ConfigurationReference.AssertDocuments(typeof(WebApiOptions), WebApiOptions.SectionName, "WebApi:Mail:Host");
}
