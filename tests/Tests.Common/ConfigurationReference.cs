using System.Collections;
using System.Reflection;
using System.Text.RegularExpressions;

namespace Tests.Common;

/// <summary>
/// The configuration reference (docs/configuration.md) against an options class: the keys its tables name, and
/// the keys the class binds, so that a test can say which are missing on either side.
/// </summary>
public static partial class ConfigurationReference
{
    private static readonly string Document = Path.Combine(RepositoryPaths.Root, "docs", "configuration.md");

    /// <summary>
    /// The reference names every key <paramref name="options"/> binds below <paramref name="section"/>, and no
    /// other; <paramref name="known"/> is one it must find, so that a walk that found nothing cannot pass.
    /// </summary>
    public static void AssertDocuments(Type options, string section, string known)
    {
        var bindable = Bindable(options, section);
        var documented = Documented(section);

        Assert.Contains(known, bindable);
        Assert.Empty(bindable.Except(documented));
        Assert.Empty(documented.Except(bindable));
    }

    /// <summary>Every key under <paramref name="section"/> named in the reference's tables, placeholders as <c>&lt;&gt;</c>.</summary>
    public static SortedSet<string> Documented(string section)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Document).Where(line => line.StartsWith("| `", StringComparison.Ordinal)))
        {
            var cell = line.Split('|')[1];
            var names = Backticked().Matches(cell).Select(match => match.Groups[1].Value).ToList();
            if (names.Count == 0 || !names[0].StartsWith(section + ":", StringComparison.Ordinal))
            {
                continue;
            }

            var first = Normalize(names[0]);
            keys.Add(first);
            var parent = first[..first.LastIndexOf(':')];
            foreach (var name in names.Skip(1).Select(Normalize))
            {
                keys.Add(name.StartsWith(section + ":", StringComparison.Ordinal) ? name : name.StartsWith(':') ? parent + name : parent + ":" + name);
            }
        }

        return keys;
    }

    /// <summary>Every key <paramref name="options"/> binds below <paramref name="section"/>: settable leaves, collections as one key.</summary>
    public static SortedSet<string> Bindable(Type options, string section)
    {
        var keys = new SortedSet<string>(StringComparer.Ordinal);
        Walk(options, section, keys, depth: 0);
        return keys;
    }

    private static void Walk(Type type, string prefix, SortedSet<string> keys, int depth)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetCustomAttribute<ServiceDefaults.Hosting.RenamedSettingAttribute>() is not null)
            {
                continue;
            }

            var key = $"{prefix}:{property.Name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsLeaf(propertyType))
            {
                if (property.CanWrite)
                {
                    keys.Add(key);
                }
            }
            else if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                Walk(propertyType.GetGenericArguments()[1], key + ":<>", keys, depth + 1);
            }
            else if (typeof(IEnumerable).IsAssignableFrom(propertyType))
            {
                keys.Add(key);
            }
            else if (propertyType.IsClass && depth < 8)
            {
                Walk(propertyType, key, keys, depth + 1);
            }
        }
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) || type == typeof(Uri);

    private static string Normalize(string key) => Placeholder().Replace(key.Trim(), "<>");

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Placeholder();
}
