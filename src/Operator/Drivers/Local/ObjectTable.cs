using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Operator.Drivers.Kubernetes;

namespace Operator.Drivers.Local;

/// <summary>
/// One kind of namespaced object kept in memory with the API server's rules: resourceVersion
/// (optimistic concurrency, 409 on a stale write), generation bumped on spec changes, the status
/// subresource, finalizers holding back deletion (deletionTimestamp), and watches that replay from a
/// resourceVersion or answer 410 when it is older than the history kept. It is the local platform's
/// store (<see cref="InMemoryWorkspaceStore"/>) and the tests' API server.
/// </summary>
public sealed class ObjectTable
{
    private readonly object _gate = new();
    private readonly Dictionary<(string Ns, string Name), JsonObject> _objects = [];
    private readonly List<(long Version, string Type, JsonObject Object)> _history = [];
    private readonly List<Watcher> _watchers = [];
    private readonly VersionClock _clock;
    private readonly int _historyLimit;
    private long _compactedThrough;

    public ObjectTable(ResourceKind kind, VersionClock clock, int historyLimit = 1000)
    {
        Kind = kind;
        _clock = clock;
        _historyLimit = historyLimit;
    }

    public ResourceKind Kind { get; }

    /// <summary>Called (under no lock of the caller's) after every change, with a snapshot of all objects.</summary>
    public event Action<IReadOnlyList<JsonObject>>? Changed;

    public JsonObject? Get(string ns, string name)
    {
        lock (_gate)
        {
            return _objects.TryGetValue((ns, name), out var value) ? Clone(value) : null;
        }
    }

    public (List<JsonObject> Items, long ResourceVersion) List(string ns, string? labelSelector)
    {
        var selector = LabelSelector.Parse(labelSelector);
        lock (_gate)
        {
            var items = _objects
                .Where(pair => pair.Key.Ns == ns && selector.Matches(pair.Value))
                .OrderBy(pair => pair.Key.Name, StringComparer.Ordinal)
                .Select(pair => Clone(pair.Value))
                .ToList();
            return (items, _clock.Current);
        }
    }

    public JsonObject Create(string ns, JsonObject value)
    {
        var metadata = Metadata(value);
        var name = metadata["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name))
        {
            throw new ObjectTableException(HttpStatusCode.UnprocessableEntity, "Invalid", "metadata.name: Required value");
        }

        JsonObject stored;
        lock (_gate)
        {
            if (_objects.ContainsKey((ns, name)))
            {
                throw new ObjectTableException(HttpStatusCode.Conflict, "AlreadyExists", $"{Kind.Plural} \"{name}\" already exists");
            }

            stored = Clone(value);
            var meta = Metadata(stored);
            meta["namespace"] = ns;
            meta["uid"] = Guid.NewGuid().ToString();
            meta["generation"] = 1L;
            meta["creationTimestamp"] = DateTimeOffset.UtcNow.ToString(KubernetesNames.TimeFormat, CultureInfo.InvariantCulture);
            meta.Remove("deletionTimestamp");
            meta.Remove("resourceVersion");
            stored["apiVersion"] = Kind.ApiVersion;
            stored["kind"] = Kind.Kind;
            Store(ns, name, stored, "ADDED");
        }

        OnChanged();
        return Clone(stored);
    }

    /// <summary>PUT: the whole object, or only its status when <paramref name="status"/> is true.</summary>
    public JsonObject Replace(string ns, string name, JsonObject value, bool status)
    {
        JsonObject result;
        lock (_gate)
        {
            var current = Existing(ns, name);
            var expected = Metadata(value)["resourceVersion"]?.GetValue<string>();
            if (!string.IsNullOrEmpty(expected) && expected != Metadata(current)["resourceVersion"]!.GetValue<string>())
            {
                throw new ObjectTableException(
                    HttpStatusCode.Conflict,
                    "Conflict",
                    $"Operation cannot be fulfilled on {Kind.Plural} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");
            }

            result = Apply(ns, name, current, value, status);
        }

        OnChanged();
        return result;
    }

    /// <summary>JSON merge patch (RFC 7386) of the object or its status.</summary>
    public JsonObject Patch(string ns, string name, JsonObject patch, bool status)
    {
        JsonObject result;
        lock (_gate)
        {
            var current = Existing(ns, name);
            var merged = Clone(current);
            MergePatch(merged, patch);
            result = Apply(ns, name, current, merged, status);
        }

        OnChanged();
        return result;
    }

    /// <summary>Marks the object deleted (finalizers pending) or removes it. False when it did not exist.</summary>
    public bool Delete(string ns, string name)
    {
        lock (_gate)
        {
            if (!_objects.TryGetValue((ns, name), out var current))
            {
                return false;
            }

            var meta = Metadata(current);
            if (meta["finalizers"] is JsonArray { Count: > 0 })
            {
                if (meta["deletionTimestamp"] is null)
                {
                    var marked = Clone(current);
                    Metadata(marked)["deletionTimestamp"] = DateTimeOffset.UtcNow.ToString(KubernetesNames.TimeFormat, CultureInfo.InvariantCulture);
                    Store(ns, name, marked, "MODIFIED");
                }
            }
            else
            {
                Remove(ns, name, current);
            }
        }

        OnChanged();
        return true;
    }

    /// <summary>
    /// Events after <paramref name="resourceVersion"/> ("" or "0": from now). 410 when the history no
    /// longer reaches back that far. The reader completes when <paramref name="cancellationToken"/> fires.
    /// </summary>
    public ChannelReader<(string Type, JsonObject Object)> Watch(string ns, string resourceVersion, string? labelSelector, CancellationToken cancellationToken)
    {
        var selector = LabelSelector.Parse(labelSelector);
        var channel = Channel.CreateUnbounded<(string, JsonObject)>();
        var watcher = new Watcher(ns, selector, channel.Writer);
        lock (_gate)
        {
            if (long.TryParse(resourceVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var from) && from > 0)
            {
                if (from < _compactedThrough)
                {
                    throw new ObjectTableException(HttpStatusCode.Gone, "Expired", $"too old resource version: {from} ({_compactedThrough})");
                }

                foreach (var (version, type, value) in _history)
                {
                    if (version > from)
                    {
                        watcher.Offer(type, value);
                    }
                }
            }
            else
            {
                // No version, or "0": an API server starts such a watch with an ADDED event for every object that
                // exists. A list of an empty table is at version 0; without these, an object made between that
                // list and this watch would never reach the informer that watched from it.
                foreach (var value in _objects.Values)
                {
                    watcher.Offer("ADDED", value);
                }
            }

            _watchers.Add(watcher);
        }

        cancellationToken.Register(() =>
        {
            lock (_gate)
            {
                _watchers.Remove(watcher);
            }

            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    /// <summary>Forgets the history (as etcd compaction does): watches from any older version get 410.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _history.Clear();
            _compactedThrough = _clock.Current;
        }
    }

    /// <summary>Ends every open watch, as an API server does when it restarts or times a watch out.</summary>
    public void EndWatches()
    {
        lock (_gate)
        {
            foreach (var watcher in _watchers)
            {
                watcher.End();
            }

            _watchers.Clear();
        }
    }

    /// <summary>Replaces the contents with objects read back from disk (no events: nobody watches yet).</summary>
    public void Load(IEnumerable<JsonObject> objects)
    {
        lock (_gate)
        {
            foreach (var value in objects)
            {
                var meta = Metadata(value);
                var version = long.Parse(meta["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture);
                _clock.AtLeast(version);
                _objects[(meta["namespace"]!.GetValue<string>(), meta["name"]!.GetValue<string>())] = Clone(value);
            }

            _compactedThrough = _clock.Current;
        }
    }

    private JsonObject Apply(string ns, string name, JsonObject current, JsonObject value, bool status)
    {
        JsonObject next;
        if (status)
        {
            next = Clone(current);
            next["status"] = value["status"]?.DeepClone();
        }
        else
        {
            next = Clone(value);
            var meta = Metadata(next);
            var currentMeta = Metadata(current);
            foreach (var owned in (string[])["uid", "creationTimestamp", "deletionTimestamp", "generation", "namespace", "name"])
            {
                meta[owned] = currentMeta[owned]?.DeepClone();
            }

            // The status subresource makes status read-only through the main resource, as for pods and our CRD.
            next["status"] = current["status"]?.DeepClone();
            next["apiVersion"] = Kind.ApiVersion;
            next["kind"] = Kind.Kind;
            if (!JsonNode.DeepEquals(current["spec"], next["spec"]))
            {
                meta["generation"] = (currentMeta["generation"]?.GetValue<long>() ?? 0) + 1;
            }
        }

        var nextMeta = Metadata(next);
        if (nextMeta["deletionTimestamp"] is not null && nextMeta["finalizers"] is not JsonArray { Count: > 0 })
        {
            Remove(ns, name, next);
            return Clone(next);
        }

        Store(ns, name, next, "MODIFIED");
        return Clone(next);
    }

    private JsonObject Existing(string ns, string name) =>
        _objects.TryGetValue((ns, name), out var current)
            ? current
            : throw new ObjectTableException(HttpStatusCode.NotFound, "NotFound", $"{Kind.Plural} \"{name}\" not found");

    private void Store(string ns, string name, JsonObject value, string type)
    {
        var version = _clock.Next();
        Metadata(value)["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        _objects[(ns, name)] = value;
        Record(version, type, value);
    }

    private void Remove(string ns, string name, JsonObject last)
    {
        var version = _clock.Next();
        var gone = Clone(last);
        Metadata(gone)["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        _objects.Remove((ns, name));
        Record(version, "DELETED", gone);
    }

    private void Record(long version, string type, JsonObject value)
    {
        _history.Add((version, type, value));
        if (_history.Count > _historyLimit)
        {
            _compactedThrough = _history[0].Version;
            _history.RemoveAt(0);
        }

        foreach (var watcher in _watchers)
        {
            watcher.Offer(type, value);
        }
    }

    private void OnChanged()
    {
        if (Changed is { } changed)
        {
            List<JsonObject> snapshot;
            lock (_gate)
            {
                snapshot = [.. _objects.Values.Select(Clone)];
            }

            changed(snapshot);
        }
    }

    private static JsonObject Metadata(JsonObject value) =>
        value["metadata"] as JsonObject ?? (JsonObject)(value["metadata"] = new JsonObject());

    private static JsonObject Clone(JsonObject value) => (JsonObject)value.DeepClone();

    private static void MergePatch(JsonObject target, JsonObject patch)
    {
        foreach (var (key, value) in patch)
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject child && target[key] is JsonObject existing)
            {
                MergePatch(existing, child);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    private sealed class Watcher(string ns, LabelSelector selector, ChannelWriter<(string, JsonObject)> writer)
    {
        public void Offer(string type, JsonObject value)
        {
            if (Metadata(value)["namespace"]?.GetValue<string>() == ns && selector.Matches(value))
            {
                writer.TryWrite((type, Clone(value)));
            }
        }

        public void End() => writer.TryComplete();
    }
}

/// <summary>One resourceVersion sequence shared by every table of a fake cluster, as etcd's revision is.</summary>
public sealed class VersionClock
{
    private long _current;

    public long Current => Interlocked.Read(ref _current);

    public long Next() => Interlocked.Increment(ref _current);

    public void AtLeast(long version)
    {
        long seen;
        while ((seen = Interlocked.Read(ref _current)) < version && Interlocked.CompareExchange(ref _current, version, seen) != seen)
        {
        }
    }
}

public sealed class ObjectTableException(HttpStatusCode statusCode, string reason, string message) : Exception(message)
{
    public HttpStatusCode StatusCode { get; } = statusCode;

    public string Reason { get; } = reason;
}
