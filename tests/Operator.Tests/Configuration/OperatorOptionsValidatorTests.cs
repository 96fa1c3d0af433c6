using Operator.Configuration;

namespace Operator.Tests.Configuration;

public sealed class OperatorOptionsValidatorTests
{
    [Fact]
    public void The_shipped_defaults_are_valid() =>
        Assert.True(new OperatorOptionsValidator().Validate(null, new OperatorOptions()).Succeeded);

    [Fact]
    public void The_renamed_redis_setting_stops_the_start_and_names_its_new_key()
    {
        var result = new OperatorOptionsValidator().Validate(null, new OperatorOptions { Routes = { Redis = "redis:6379" } });

        Assert.False(result.Succeeded);
        Assert.Contains("Operator:Routes:Redis was renamed: set Operator:Redis:Configuration", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_editor_settings_are_one_key_for_both_drivers_and_their_file_is_checked()
    {
        var moved = new OperatorOptionsValidator().Validate(null, new OperatorOptions { Local = { EditorSettingsFile = "config/editor-settings.json" } });
        Assert.Contains("Operator:Local:EditorSettingsFile moved: set Operator:EditorSettingsFile", moved.FailureMessage, StringComparison.Ordinal);

        var missing = new OperatorOptionsValidator().Validate(null, new OperatorOptions { Driver = DriverKind.Kubernetes, EditorSettingsFile = "/nonexistent/editor-settings.json" });
        Assert.Contains("Operator:EditorSettingsFile: /nonexistent/editor-settings.json cannot be read", missing.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_redis_sign_in_is_checked_under_its_own_key() =>
        Assert.Contains(
            "Operator:Redis:User 'operator' needs its password",
            new OperatorOptionsValidator().Validate(null, new OperatorOptions { Redis = { User = "operator" } }).FailureMessage,
            StringComparison.Ordinal);
}
