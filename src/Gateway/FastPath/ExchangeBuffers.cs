using System.Buffers;

namespace Gateway.FastPath;

/// <summary>
/// The buffers one client connection's exchanges use: the head sent to the workspace, and the start of its answer
/// (its head and what came with it). Rented at the connection's first forwarded request and kept until it ends or
/// goes to Kestrel, not rented per request: held across the wait for the workspace, 64 requests in flight at once
/// emptied the shared pool's buckets, and every request allocated 15 KB anew (measured with 64 connections).
/// </summary>
internal sealed class ExchangeBuffers : IDisposable
{
    // Most answers' heads, and small bodies whole; a longer head grows it once, up to what the relay takes.
    private const int AnswerSize = 8 * 1024;
    private const int HeadSize = 2 * 1024;

    private byte[]? _head;
    private byte[]? _answer;

    /// <summary>Where the answer is read to; its first bytes are kept by <see cref="TryGrowAnswer"/>.</summary>
    public byte[] Answer => _answer ??= ArrayPool<byte>.Shared.Rent(AnswerSize);

    /// <summary>At least <paramref name="size"/> bytes for the workspace's request head.</summary>
    public byte[] Head(int size)
    {
        if (_head is null || _head.Length < size)
        {
            Return(ref _head);
            _head = ArrayPool<byte>.Shared.Rent(Math.Max(size, HeadSize));
        }

        return _head;
    }

    /// <summary>A larger answer buffer with the first <paramref name="filled"/> bytes kept; false at the largest head the relay takes.</summary>
    public bool TryGrowAnswer(int filled)
    {
        var answer = Answer;
        if (answer.Length >= Http1ResponseHead.MaxLength)
        {
            return false;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Http1ResponseHead.MaxLength);
        answer.AsSpan(0, filled).CopyTo(larger);
        Return(ref _answer);
        _answer = larger;
        return true;
    }

    public void Dispose()
    {
        Return(ref _head);
        Return(ref _answer);
    }

    private static void Return(ref byte[]? buffer)
    {
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
        }
    }
}
