namespace Gateway.Forwarding;

/// <summary>
/// Follows the frames of one direction of a WebSocket (RFC 6455 §5.2) as bytes pass through, to know when
/// a frame of our own can be inserted without cutting one of the workspace's in half. Control frames may
/// sit between the fragments of a message (§5.4), so any frame boundary will do.
/// </summary>
internal struct WebSocketFrameBoundary
{
    private const int MaxHeaderLength = 14;

    private long _payloadLeft;
    private int _headerLength;
    private int _headerNeeded;
    private HeaderBytes _header;
    private bool _sawClose;

    /// <summary>True between frames: nothing of a frame has been seen that is not complete.</summary>
    public readonly bool AtBoundary => _payloadLeft == 0 && _headerLength == 0;

    /// <summary>A close frame (opcode 8) has passed: the closing handshake is under way, nothing may follow it.</summary>
    public readonly bool SawClose => _sawClose;

    public void Advance(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            if (_payloadLeft > 0)
            {
                var take = (int)Math.Min(_payloadLeft, data.Length);
                _payloadLeft -= take;
                data = data[take..];
                continue;
            }

            _header[_headerLength++] = data[0];
            data = data[1..];
            if (_headerLength == 2)
            {
                var length7 = _header[1] & 0x7F;
                _headerNeeded = 2 + (length7 == 126 ? 2 : length7 == 127 ? 8 : 0) + ((_header[1] & 0x80) != 0 ? 4 : 0);
            }

            if (_headerLength >= 2 && _headerLength == _headerNeeded)
            {
                _payloadLeft = PayloadLength();
                _headerLength = 0;
                _sawClose |= (_header[0] & 0x0F) == 0x8;
            }
        }
    }

    private readonly long PayloadLength()
    {
        var length7 = _header[1] & 0x7F;
        if (length7 < 126)
        {
            return length7;
        }

        long length = 0;
        var bytes = length7 == 126 ? 2 : 8;
        for (var i = 0; i < bytes; i++)
        {
            length = (length << 8) | _header[2 + i];
        }

        return length;
    }

    [System.Runtime.CompilerServices.InlineArray(MaxHeaderLength)]
    private struct HeaderBytes
    {
        private byte _first;
    }
}
