using Operator.Configuration;

namespace Operator.Tests.Configuration;

public sealed class ConfigurationReferenceTests
{
    /// <summary>docs/configuration.md names every setting the operator binds, and nothing it does not.</summary>
    [Fact]
    public void Every_setting_is_documented_and_every_documented_setting_exists() =>
        ConfigurationReference.AssertDocuments(typeof(OperatorOptions), OperatorOptions.SectionName, "Operator:Local:StopTimeout");
}
