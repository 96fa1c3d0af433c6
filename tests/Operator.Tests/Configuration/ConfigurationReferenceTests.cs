using Operator.Configuration;

namespace Operator.Tests.Configuration;

/// <summary>docs/configuration.md names every setting the operator binds, and nothing it does not.</summary>
public sealed class ConfigurationReferenceTests
{
    [Fact]
    public void Every_setting_is_documented_and_every_documented_setting_exists()
    {
        var bindable = ConfigurationReference.Bindable(typeof(OperatorOptions), OperatorOptions.SectionName);
        var documented = ConfigurationReference.Documented(OperatorOptions.SectionName);

        Assert.Contains("Operator:Local:StopTimeout", bindable);
        Assert.Empty(bindable.Except(documented));
        Assert.Empty(documented.Except(bindable));
    }
}
