using System.Net;

namespace Gateway.Forwarding;

/// <summary>
/// The request body as YARP copies it, flushed to the workspace after every piece. YARP flushes
/// HttpClient's own write buffer only for gRPC requests; for anything else a small piece of a streamed
/// upload (smaller than that buffer, about 4 KB) waited in the gateway until more of the body came, which
/// for an interactive stream can be never; the old proxy forwarded such pieces at once
/// (proxy_request_buffering off). Only requests with a body pay for it.
/// </summary>
internal sealed class FlushingRequestContent : HttpContent
{
    private readonly HttpContent _body;

    public FlushingRequestContent(HttpContent body)
    {
        _body = body;
        foreach (var header in body.Headers)
        {
            Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        _body.CopyToAsync(new FlushingStream(stream), context);

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
        _body.CopyToAsync(new FlushingStream(stream), context, cancellationToken);

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _body.Dispose();
        }

        base.Dispose(disposing);
    }

    /// <summary>Writes through to HttpClient's request stream and flushes its buffer to the socket each time.</summary>
    private sealed class FlushingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await inner.WriteAsync(buffer, cancellationToken);
            await inner.FlushAsync(cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count)
        {
            inner.Write(buffer, offset, count);
            inner.Flush();
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override void Flush() => inner.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
