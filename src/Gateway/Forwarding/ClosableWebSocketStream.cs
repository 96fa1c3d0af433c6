namespace Gateway.Forwarding;

/// <summary>
/// The browser's side of a tunnelled WebSocket. Bytes pass through untouched, but the frames the
/// workspace sends are followed so that, when the gateway shuts down, a close frame with 1001 "going
/// away" can be put between two of them (issue #4): the editor sees a clean close and reconnects through
/// another replica instead of reporting a dropped connection.
/// </summary>
internal sealed class ClosableWebSocketStream(Stream inner) : Stream
{
    // Close frame, server to client (unmasked): FIN + opcode 8, payload 2 bytes = status 1001.
    private static readonly byte[] GoingAwayFrame = [0x88, 0x02, 0x03, 0xE9];

    private readonly SemaphoreSlim _writes = new(1, 1);
    private WebSocketFrameBoundary _frames;
    private volatile bool _closeRequested;
    private volatile bool _closeSent;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>
    /// Sends 1001 at the next frame boundary and ends the tunnel. Returns false when no boundary came
    /// within <paramref name="within"/> (a frame stuck half-sent): the caller then aborts the connection.
    /// </summary>
    public async Task<bool> CloseGoingAwayAsync(TimeSpan within)
    {
        _closeRequested = true;
        using var deadline = new CancellationTokenSource(within);
        try
        {
            while (true)
            {
                await _writes.WaitAsync(deadline.Token);
                try
                {
                    if (_closeSent)
                    {
                        return true;
                    }

                    if (_frames.AtBoundary)
                    {
                        await SendCloseAsync(deadline.Token);
                        return true;
                    }
                }
                finally
                {
                    _writes.Release();
                }

                // Mid-frame: the write that finishes it sends the close; look again shortly.
                await Task.Delay(20, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return false;
        }
        catch (ObjectDisposedException)
        {
            // The tunnel ended by itself meanwhile.
            return true;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // After our close frame the browser's side is over: what it still sends (its close reply) is not
        // the workspace's business. No per-read cancellation source: reads are the hot path of a tunnel.
        if (_closeSent)
        {
            return 0;
        }

        var read = await inner.ReadAsync(buffer, cancellationToken);
        return _closeSent ? 0 : read;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writes.WaitAsync(cancellationToken);
        try
        {
            if (_closeSent)
            {
                return;
            }

            await inner.WriteAsync(buffer, cancellationToken);
            _frames.Advance(buffer.Span);
            if (_closeRequested && _frames.AtBoundary)
            {
                await SendCloseAsync(cancellationToken);
            }
        }
        finally
        {
            _writes.Release();
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("tunnels are asynchronous");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("tunnels are asynchronous");

    public override void Flush() => throw new NotSupportedException("tunnels are asynchronous");

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _writes.Dispose();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private async Task SendCloseAsync(CancellationToken cancellationToken)
    {
        _closeSent = true;
        await inner.WriteAsync(GoingAwayFrame, cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }
}
