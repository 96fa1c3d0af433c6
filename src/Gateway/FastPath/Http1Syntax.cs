using System.Buffers;

namespace Gateway.FastPath;

/// <summary>The pieces of RFC 9110's grammar both of the fast path's readers use.</summary>
internal static class Http1Syntax
{
    // tchar (RFC 9110 §5.6.2).
    private static readonly SearchValues<byte> TokenCharacters =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    /// <summary>A field name: one or more tchar.</summary>
    public static bool IsToken(ReadOnlySpan<byte> text) => !text.IsEmpty && text.IndexOfAnyExcept(TokenCharacters) < 0;
}
