using WebApi.Configuration;

namespace WebApi.Tests.Configuration;

public sealed class WebApiOptionsValidatorTests
{
    private static readonly string Key = Convert.ToBase64String(new byte[32]);

    [Fact]
    public void The_renamed_redis_setting_stops_the_start_and_names_its_new_key()
    {
        var result = new WebApiOptionsValidator().Validate(null, new WebApiOptions { Tickets = { SigningKey = Key }, IdleStop = { Redis = "redis:6379" } });

        Assert.False(result.Succeeded);
        Assert.Contains("WebApi:IdleStop:Redis was renamed: set WebApi:Redis:Configuration", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void The_redis_sign_in_is_checked_only_when_idle_stop_needs_redis()
    {
        var signIn = new WebApiOptions { Tickets = { SigningKey = Key }, Redis = { User = "webapi" } };
        Assert.Contains("WebApi:Redis:User 'webapi' needs its password", new WebApiOptionsValidator().Validate(null, signIn).FailureMessage, StringComparison.Ordinal);

        signIn.IdleStop.Enabled = false;
        Assert.True(new WebApiOptionsValidator().Validate(null, signIn).Succeeded);
    }
}
