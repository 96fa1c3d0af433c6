using System.Text;

namespace Gateway.FastPath;

/// <summary>Appends to a head being built in a fixed buffer; once something does not fit, nothing more is written.</summary>
internal ref struct HeadWriter(Span<byte> destination)
{
    private readonly Span<byte> _destination = destination;

    public int Written { get; private set; }

    public bool Overflowed { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (Overflowed || !bytes.TryCopyTo(_destination[Written..]))
        {
            Overflowed = true;
            return;
        }

        Written += bytes.Length;
    }

    public void WriteAscii(string text)
    {
        if (Overflowed || text.Length > _destination.Length - Written)
        {
            Overflowed = true;
            return;
        }

        Written += Encoding.ASCII.GetBytes(text, _destination[Written..]);
    }

    /// <summary><c>name: value</c> and its CRLF.</summary>
    public void WriteField(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        Write(name);
        Write(": "u8);
        Write(value);
        Write("\r\n"u8);
    }
}
