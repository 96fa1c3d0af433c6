using System.Buffers;

namespace Gateway.FastPath;

/// <summary>
/// Finds where a chunked body ends (RFC 9112 §7.1) while its bytes pass through unchanged, however they are
/// split into reads: the fast path relays a workspace's chunked answer as it came and must know when the next
/// answer on that connection begins. Anything malformed (a size that is not hex or overflows, a control in an
/// extension or trailer, a missing CRLF, a bare LF) is invalid: the connection to the workspace cannot be
/// reused and the client's is ended, as a proxy must when a message it relays turns out broken mid-body.
/// </summary>
internal struct ChunkedBodyScanner
{
    // A line (size with its extensions, or one trailer field) longer than this is refused, as Kestrel and
    // SocketsHttpHandler bound theirs; sizes have at most 16 hex digits (a long).
    private const int MaxLine = 4 * 1024;
    private const int MaxSizeDigits = 16;
    private const int MaxTrailerBytes = 16 * 1024;

    private State _state;
    private long _remaining;
    private int _digits;
    private int _lineLength;
    private int _trailerBytes;

    private enum State
    {
        Size,
        Extension,
        SizeLf,
        Data,
        DataCr,
        DataLf,
        TrailerStart,
        TrailerLine,
        TrailerLf,
        EndLf,
        Done,
    }

    public readonly bool IsDone => _state == State.Done;

    /// <summary>
    /// Scans <paramref name="input"/>: <see cref="OperationStatus.Done"/> with the body's last byte at
    /// <paramref name="consumed"/> − 1, <see cref="OperationStatus.NeedMoreData"/> with all of it consumed, or
    /// <see cref="OperationStatus.InvalidData"/>.
    /// </summary>
    public OperationStatus Scan(ReadOnlySpan<byte> input, out int consumed)
    {
        var i = 0;
        while (i < input.Length)
        {
            switch (_state)
            {
                case State.Data:
                    var take = (int)Math.Min(_remaining, input.Length - i);
                    i += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _state = State.DataCr;
                    }

                    continue;
                case State.Done:
                    consumed = i;
                    return OperationStatus.Done;
            }

            var b = input[i++];
            switch (_state)
            {
                case State.Size:
                    if (HexValue(b) is var digit and >= 0)
                    {
                        if (++_digits > MaxSizeDigits || _remaining > (long.MaxValue >> 4))
                        {
                            return Invalid(i, out consumed);
                        }

                        _remaining = (_remaining << 4) | (uint)digit;
                    }
                    else if (_digits > 0 && b is (byte)';' or (byte)' ' or (byte)'\t')
                    {
                        _state = State.Extension;
                    }
                    else if (_digits > 0 && b == '\r')
                    {
                        _state = State.SizeLf;
                    }
                    else
                    {
                        return Invalid(i, out consumed);
                    }

                    break;
                case State.Extension:
                    if (b == '\r')
                    {
                        _state = State.SizeLf;
                    }
                    else if (IsControl(b) || ++_lineLength > MaxLine)
                    {
                        return Invalid(i, out consumed);
                    }

                    break;
                case State.SizeLf:
                    if (b != '\n')
                    {
                        return Invalid(i, out consumed);
                    }

                    _digits = 0;
                    _lineLength = 0;
                    _state = _remaining == 0 ? State.TrailerStart : State.Data;
                    break;
                case State.DataCr:
                    if (b != '\r')
                    {
                        return Invalid(i, out consumed);
                    }

                    _state = State.DataLf;
                    break;
                case State.DataLf:
                    if (b != '\n')
                    {
                        return Invalid(i, out consumed);
                    }

                    _state = State.Size;
                    break;
                case State.TrailerStart:
                    if (b == '\r')
                    {
                        _state = State.EndLf;
                        break;
                    }

                    _state = State.TrailerLine;
                    goto case State.TrailerLine;
                case State.TrailerLine:
                    if (b == '\r')
                    {
                        _state = State.TrailerLf;
                    }
                    else if (IsControl(b) || ++_lineLength > MaxLine || ++_trailerBytes > MaxTrailerBytes)
                    {
                        return Invalid(i, out consumed);
                    }

                    break;
                case State.TrailerLf:
                    if (b != '\n')
                    {
                        return Invalid(i, out consumed);
                    }

                    _lineLength = 0;
                    _state = State.TrailerStart;
                    break;
                case State.EndLf:
                    if (b != '\n')
                    {
                        return Invalid(i, out consumed);
                    }

                    _state = State.Done;
                    consumed = i;
                    return OperationStatus.Done;
            }
        }

        consumed = i;
        return _state == State.Done ? OperationStatus.Done : OperationStatus.NeedMoreData;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };

    // CTLs but HTAB (RFC 9110 §5.5): what may never be inside an extension or a field.
    private static bool IsControl(byte b) => b is (< 0x20 and not (byte)'\t') or 0x7F;

    private static OperationStatus Invalid(int at, out int consumed)
    {
        consumed = at;
        return OperationStatus.InvalidData;
    }
}
