using System.Text;

namespace Gateway.Forwarding;

/// <summary>
/// Makes Kestrel refuse a Content-Length that is not only digits (RFC 9112 §6.3: <c>1*DIGIT</c>; anything else
/// is a framing error, 400, and the connection closes). Kestrel's own parse takes a leading sign, so
/// <c>Content-Length: +54</c> is read as 54; a load balancer in front that refuses or reads it otherwise
/// falls out of step with us about where the next request starts. Kestrel re-formats the parsed value, so no
/// middleware can see the sign: the only view of the raw bytes it offers is the request-header encoding, and
/// a selector that names an encoding for Content-Length alone has Kestrel decode that value through it and
/// then parse the characters. This decoder passes digits and turns anything else into a character no number
/// parse accepts; every other header keeps Kestrel's default decoding.
/// </summary>
internal sealed class ContentLengthDigits : Encoding
{
    public static readonly ContentLengthDigits Instance = new();

    // Never a digit, sign or white space: the parse fails on it.
    private const char NotADigit = '\uFFFD';

    private ContentLengthDigits()
    {
    }

    /// <summary>For <c>KestrelServerOptions.RequestHeaderEncodingSelector</c>: this decoder for Content-Length, the default for the rest.</summary>
    public static Encoding? Select(string headerName) =>
        string.Equals(headerName, "Content-Length", StringComparison.OrdinalIgnoreCase) ? Instance : null;

    public override int GetCharCount(byte[] bytes, int index, int count) => count;

    public override int GetCharCount(ReadOnlySpan<byte> bytes) => bytes.Length;

    public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex) =>
        GetChars(bytes.AsSpan(byteIndex, byteCount), chars.AsSpan(charIndex));

    public override int GetChars(ReadOnlySpan<byte> bytes, Span<char> chars)
    {
        // Kestrel decodes into room for 20 characters and refuses more than 19 (beyond long.MaxValue); a longer
        // value fills the room, is refused for its length, and never overruns it.
        var count = Math.Min(bytes.Length, chars.Length);
        for (var i = 0; i < count; i++)
        {
            var b = bytes[i];
            chars[i] = b is >= (byte)'0' and <= (byte)'9' ? (char)b : NotADigit;
        }

        return count;
    }

    public override int GetMaxCharCount(int byteCount) => byteCount;

    // Request headers are only ever decoded; nothing encodes with this.
    public override int GetByteCount(char[] chars, int index, int count) => throw new NotSupportedException();

    public override int GetBytes(char[] chars, int charIndex, int charCount, byte[] bytes, int byteIndex) => throw new NotSupportedException();

    public override int GetMaxByteCount(int charCount) => throw new NotSupportedException();
}
