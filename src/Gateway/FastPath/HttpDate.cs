using System.Buffers.Text;

namespace Gateway.FastPath;

/// <summary>
/// The <c>Date</c> field's value (an IMF-fixdate, RFC 9110 §5.6.7) for the current second, formatted once per
/// second as Kestrel does with its own, instead of once per response.
/// </summary>
internal sealed class HttpDate(TimeProvider time)
{
    private Snapshot _current = new(long.MinValue, []);

    /// <summary>Now, to the second: 29 ASCII bytes.</summary>
    public ReadOnlySpan<byte> Now
    {
        get
        {
            var now = time.GetUtcNow();
            var second = now.ToUnixTimeSeconds();
            var current = Volatile.Read(ref _current);
            if (current.Second == second)
            {
                return current.Bytes;
            }

            var bytes = new byte[29];
            Utf8Formatter.TryFormat(now, bytes, out _, new System.Buffers.StandardFormat('R'));
            Volatile.Write(ref _current, new Snapshot(second, bytes));
            return bytes;
        }
    }

    private sealed record Snapshot(long Second, byte[] Bytes);
}
