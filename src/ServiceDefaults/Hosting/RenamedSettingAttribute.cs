namespace ServiceDefaults.Hosting;

/// <summary>
/// A setting that moved to <see cref="NewKey"/>: bound only so that the program can refuse it at start with a
/// sentence naming the new key (a silently ignored setting would change behaviour unseen). Not a setting to
/// document; the configuration reference's test leaves it out.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class RenamedSettingAttribute(string newKey) : Attribute
{
    public string NewKey { get; } = newKey;
}
