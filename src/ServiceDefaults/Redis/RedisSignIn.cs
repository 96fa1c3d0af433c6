using StackExchange.Redis;

namespace ServiceDefaults.Redis;

/// <summary>
/// Who a program is at its Redis and how it connects: its settings (the <see cref="Section"/> of its
/// configuration that holds them) and the options its one multiplexer was created with. The multiplexer reads
/// the options' password each time it connects, so changing <see cref="Options"/>' password here changes the
/// password of every later connection.
/// </summary>
public sealed class RedisSignIn(RedisConnectionOptions settings, string section, string clientName)
{
    public RedisConnectionOptions Settings { get; } = settings;

    public string Section { get; } = section;

    public ConfigurationOptions Options { get; } = RedisConfiguration.Create(settings, clientName);

    /// <summary>The ACL user the program signs in as (<c>default</c> when none is set).</summary>
    public string User => string.IsNullOrEmpty(Options.User) ? "default" : Options.User;
}
