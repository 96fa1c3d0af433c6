using System.Globalization;
using System.Text;
using Contracts.Routing;

namespace Contracts.Sharing;

/// <summary>Who may reach a dev-server port of a workspace on its own origin. The editor is always private.</summary>
public enum PortSharing
{
    /// <summary>The owner only (the default for every port not listed).</summary>
    Private,

    /// <summary>Any signed-in user of the platform, with a ticket for that port.</summary>
    Authenticated,

    /// <summary>Anyone with the link, no credential.</summary>
    Public,
}

/// <summary>
/// The sharing levels of one workspace's ports as the operator writes them beside its route
/// (<c>HSET shares &lt;sid&gt; "3000=public,8080=authenticated"</c>) and the gateway reads them: the one
/// spelling of that value for all three programs. Immutable; ports not listed are private.
/// </summary>
public sealed class PortShares
{
    /// <summary>More than any real workspace needs; bounds what a bad value can make the gateway hold.</summary>
    public const int MaxPorts = 32;

    private readonly (int Port, PortSharing Sharing)[] _entries;

    private PortShares((int Port, PortSharing Sharing)[] entries) => _entries = entries;

    /// <summary>Every port private.</summary>
    public static PortShares None { get; } = new([]);

    public int Count => _entries.Length;

    public IEnumerable<(int Port, PortSharing Sharing)> Entries => _entries;

    public PortSharing For(int port)
    {
        foreach (var (listed, sharing) in _entries)
        {
            if (listed == port)
            {
                return sharing;
            }
        }

        return PortSharing.Private;
    }

    /// <summary>The levels given, private ones left out (they are the default), sorted by port; the last word for a port wins.</summary>
    public static PortShares From(IEnumerable<(int Port, PortSharing Sharing)> levels)
    {
        var byPort = new SortedDictionary<int, PortSharing>();
        foreach (var (port, sharing) in levels)
        {
            if (!PortNumber.IsValid(port) || !Enum.IsDefined(sharing))
            {
                throw new ArgumentOutOfRangeException(nameof(levels), $"{port}={sharing} is not a port and a sharing level");
            }

            byPort[port] = sharing;
        }

        var entries = byPort.Where(pair => pair.Value != PortSharing.Private).Select(pair => (pair.Key, pair.Value)).ToArray();
        if (entries.Length > MaxPorts)
        {
            throw new ArgumentOutOfRangeException(nameof(levels), $"at most {MaxPorts} shared ports");
        }

        return entries.Length == 0 ? None : new PortShares(entries);
    }

    /// <summary>Reads the stored value strictly: anything but <c>port=level</c> pairs separated by commas is refused.</summary>
    public static bool TryParse(string? value, out PortShares shares)
    {
        shares = None;
        if (string.IsNullOrEmpty(value))
        {
            return value is not null;
        }

        var levels = new List<(int, PortSharing)>();
        foreach (var part in value.Split(','))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0
                || !PortNumber.TryParse(part.AsSpan(0, equals), out var port)
                || !TryParseLevel(part.AsSpan(equals + 1), out var sharing)
                || levels.Count == MaxPorts)
            {
                return false;
            }

            levels.Add((port, sharing));
        }

        shares = From(levels);
        return true;
    }

    public static bool TryParseLevel(ReadOnlySpan<char> word, out PortSharing sharing)
    {
        sharing = word switch
        {
            "private" => PortSharing.Private,
            "authenticated" => PortSharing.Authenticated,
            "public" => PortSharing.Public,
            _ => (PortSharing)(-1),
        };
        return sharing >= 0;
    }

    public static string Word(PortSharing sharing) => sharing switch
    {
        PortSharing.Authenticated => "authenticated",
        PortSharing.Public => "public",
        _ => "private",
    };

    public bool SameAs(PortShares other) => ReferenceEquals(this, other) || _entries.AsSpan().SequenceEqual(other._entries);

    /// <summary>The stored spelling; empty when every port is private.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        foreach (var (port, sharing) in _entries)
        {
            text.Append(text.Length == 0 ? "" : ",").Append(port.ToString(CultureInfo.InvariantCulture)).Append('=').Append(Word(sharing));
        }

        return text.ToString();
    }
}
