using System.Collections.Frozen;

namespace WebApi.Workspaces;

/// <summary>
/// When each workspace was last used, as the gateway recorded it (Redis sorted set <c>activity</c>) and the
/// idle stopper last read it; swapped whole each round, so the list shows "last used" without a Redis call
/// per request. Empty while idle stop is off: nothing reads the set then.
/// </summary>
internal sealed class WorkspaceActivity
{
    private FrozenDictionary<string, DateTimeOffset> _lastUsed = FrozenDictionary<string, DateTimeOffset>.Empty;

    public DateTimeOffset? LastUsed(string sid) =>
        Volatile.Read(ref _lastUsed).TryGetValue(sid, out var at) ? at : null;

    public void Publish(FrozenDictionary<string, DateTimeOffset> lastUsed) => Volatile.Write(ref _lastUsed, lastUsed);
}
