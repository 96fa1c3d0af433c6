using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Configuration;

/// <summary>
/// The Redis sign-in settings (ServiceDefaults' <c>RedisConnectionOptions</c>, the same in the operator and the
/// web API): what cannot work stops the start with a sentence naming the key, before any connection is tried.
/// </summary>
public sealed class RedisSettingsValidationTests : IDisposable
{
    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("redis-settings");
    private readonly GatewayOptionsValidator _validator = new();

    [Fact]
    public void A_user_with_its_password_file_is_valid()
    {
        var file = Write("password", "old\nnew\n");
        Assert.True(Validate(new RedisOptions { User = "gateway", PasswordFile = file }).Succeeded);
        Assert.Equal("new", new RedisOptions { PasswordFile = file }.ReadPassword());
    }

    [Fact]
    public void A_password_given_twice_is_refused() =>
        AssertRefused(new RedisOptions { Configuration = "127.0.0.1:6379,password=secret", PasswordFile = Write("password", "secret") }, "the password is given twice");

    [Fact]
    public void A_user_named_twice_is_refused() =>
        AssertRefused(new RedisOptions { Configuration = "127.0.0.1:6379,user=gateway,password=secret", User = "gateway" }, "the user is named twice");

    [Fact]
    public void A_user_without_a_password_is_refused() =>
        AssertRefused(new RedisOptions { User = "gateway" }, "Gateway:Redis:User 'gateway' needs its password: set Gateway:Redis:PasswordFile");

    [Fact]
    public void A_password_file_that_is_missing_or_empty_is_named()
    {
        var missing = Validate(new RedisOptions { User = "gateway", PasswordFile = Path.Combine(_directory.FullName, "absent") });
        Assert.Contains("Gateway:Redis:PasswordFile", missing.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("cannot be read", missing.FailureMessage, StringComparison.Ordinal);

        var empty = Validate(new RedisOptions { User = "gateway", PasswordFile = Write("empty", "\n\n") });
        Assert.Contains("holds no password", empty.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_CA_file_needs_TLS_on_and_a_certificate_in_it()
    {
        var notPem = Write("ca.pem", "not a certificate");

        var withoutTls = Validate(new RedisOptions { TlsCaFile = notPem });

        Assert.Contains("Gateway:Redis:TlsCaFile is set, but Gateway:Redis:Configuration does not turn TLS on: add ssl=true", withoutTls.FailureMessage, StringComparison.Ordinal);
        Assert.Contains($"Gateway:Redis:TlsCaFile '{notPem}' holds no PEM certificate", withoutTls.FailureMessage, StringComparison.Ordinal);
    }

    private void AssertRefused(RedisOptions redis, string expected)
    {
        var result = Validate(redis);
        Assert.False(result.Succeeded);
        Assert.Contains(expected, result.FailureMessage, StringComparison.Ordinal);
    }

    private ValidateOptionsResult Validate(RedisOptions redis) =>
        _validator.Validate(null, new GatewayOptions { Redis = redis, Auth = { Mode = AuthMode.None } });

    private string Write(string name, string content)
    {
        var path = Path.Combine(_directory.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => _directory.Delete(recursive: true);
}
