using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace Gateway.FastPath;

/// <summary>
/// Kestrel's HTTP/1.1 layer behind the fast path on one client connection, reached through a pair of in-memory
/// pipes: a request the fast path leaves to it (a plain GET or HEAD it does not forward itself) is written in, and
/// Kestrel's answer relayed out as framed, after which the fast path reads the next request itself. Kestrel sees one
/// connection with the client's features and endpoints, so everything it and the gateway's HTTP pipeline do per
/// connection or per request holds; it is started at the first such request, and at most once per connection.
/// Once anything else comes (a body, an upgrade, a head outside the strict subset), or Kestrel answers in a form
/// that is not framed, the rest of the connection is Kestrel's: bytes are copied both ways until either side ends.
/// </summary>
internal sealed class KestrelBehind : IAsyncDisposable
{
    private const int MaxHead = Http1ResponseHead.MaxLength;

    // Inline: each side continues on the thread that wrote, as Kestrel's own transport does with inline scheduling;
    // the thread pool's default scheduler put two queue hops on every request served behind the fast path.
    private static readonly PipeOptions Inline = new(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);

    private readonly Pipe _requests = new(Inline);
    private readonly Pipe _answers = new(Inline);
    private readonly Task _kestrel;

    private KestrelBehind(ConnectionContext client, ConnectionDelegate kestrel)
    {
        var inner = new InnerConnection(client, new DuplexPipe(_requests.Reader, _answers.Writer));
        _kestrel = RunAsync(kestrel, inner);
    }

    public static KestrelBehind Start(ConnectionContext client, ConnectionDelegate kestrel) => new(client, kestrel);

    /// <summary>Gives Kestrel the head of one bodiless request (copied: the client's buffer may move on).</summary>
    public void Write(ReadOnlySequence<byte> head)
    {
        foreach (var segment in head)
        {
            _requests.Writer.Write(segment.Span);
        }
    }

    /// <summary>Lets Kestrel read what <see cref="Write"/> gave it and relays its answer to <paramref name="client"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Relay> ServeAsync(bool isHead, PipeWriter client, FastPathConnection watch)
    {
        await _requests.Writer.FlushAsync();
        var answers = _answers.Reader;

        // The head of Kestrel's answer, whole, in one span.
        Http1ResponseHead parsed;
        byte[]? copy = null;
        ReadResult read;
        try
        {
            while (true)
            {
                read = await answers.ReadAsync();
                var buffer = read.Buffer;
                ReadOnlySpan<byte> bytes;
                if (buffer.IsSingleSegment)
                {
                    bytes = buffer.FirstSpan;
                }
                else
                {
                    var length = (int)Math.Min(buffer.Length, MaxHead);
                    copy ??= ArrayPool<byte>.Shared.Rent(MaxHead);
                    buffer.Slice(0, length).CopyTo(copy);
                    bytes = copy.AsSpan(0, length);
                }

                var status = Http1ResponseHead.TryParse(bytes, isHead, out parsed);
                if (status == HeadParse.Taken)
                {
                    break;
                }

                if (status == HeadParse.Declined || read.IsCompleted)
                {
                    // Not framed as the relay reads it (or Kestrel closed): the rest of the connection is Kestrel's.
                    answers.AdvanceTo(buffer.Start);
                    return Relay.Unframed;
                }

                answers.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            if (copy is not null)
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }

        // Kestrel's answer is the gateway's own, written once: it goes out as it is, up to where it ends.
        long headLeft = parsed.Length;
        var bodyLeft = parsed.ContentLength;
        var chunks = default(ChunkedBodyScanner);
        var pending = read.Buffer;
        while (true)
        {
            var done = false;
            var take = Math.Min(headLeft, pending.Length);
            headLeft -= take;
            if (headLeft == 0)
            {
                var body = pending.Slice(take);
                switch (parsed.Framing)
                {
                    case BodyFraming.ContentLength:
                        var length = Math.Min(bodyLeft, body.Length);
                        bodyLeft -= length;
                        take += length;
                        done = bodyLeft == 0;
                        break;
                    case BodyFraming.Chunked:
                        var scanned = Scan(ref chunks, body, out done);
                        if (scanned < 0)
                        {
                            return Relay.Broken;
                        }

                        take += scanned;
                        break;
                    default:
                        done = true;
                        break;
                }
            }

            foreach (var segment in pending.Slice(0, take))
            {
                client.Write(segment.Span);
            }

            answers.AdvanceTo(pending.GetPosition(take));
            var flushed = await client.FlushAsync();
            if (flushed.IsCompleted || flushed.IsCanceled)
            {
                return Relay.Broken;
            }

            if (done)
            {
                return parsed.KeepAlive ? Relay.Whole : Relay.Closed;
            }

            watch.Progress();
            read = await answers.ReadAsync();
            pending = read.Buffer;
            if (pending.IsEmpty && read.IsCompleted)
            {
                return Relay.Broken;
            }
        }
    }

    /// <summary>Gives Kestrel the rest of the connection: bytes copied both ways until either side ends.</summary>
    public async Task PumpAsync(PipeReader clientInput, PipeWriter clientOutput)
    {
        var outbound = _answers.Reader.CopyToAsync(clientOutput);
        try
        {
            await clientInput.CopyToAsync(_requests.Writer);
        }
        catch (Exception ex) when (EndsTheConnection(ex))
        {
        }
        finally
        {
            await _requests.Writer.CompleteAsync();
        }

        try
        {
            await outbound;
        }
        catch (Exception ex) when (EndsTheConnection(ex))
        {
        }
    }

    // A stopping server cancels the pending read of every connection (an idle one included): the end of this one,
    // like a reset or an abort, not an error for Kestrel to log.
    private static bool EndsTheConnection(Exception ex) =>
        ex is IOException or ConnectionResetException or ConnectionAbortedException or InvalidOperationException or OperationCanceledException;

    public async ValueTask DisposeAsync()
    {
        // The client is gone or done: Kestrel reads the end of its input and finishes.
        await _requests.Writer.CompleteAsync();
        await _answers.Reader.CompleteAsync();
        await _kestrel;
    }

    private static int Scan(ref ChunkedBodyScanner chunks, ReadOnlySequence<byte> bytes, out bool done)
    {
        var total = 0;
        done = false;
        foreach (var segment in bytes)
        {
            var status = chunks.Scan(segment.Span, out var consumed);
            total += consumed;
            if (status == OperationStatus.InvalidData)
            {
                return -1;
            }

            if (status == OperationStatus.Done)
            {
                done = true;
                return total;
            }
        }

        return total;
    }

    private static async Task RunAsync(ConnectionDelegate kestrel, InnerConnection inner)
    {
        try
        {
            await kestrel(inner);
        }
        finally
        {
            await inner.Transport.Output.CompleteAsync();
            await inner.Transport.Input.CompleteAsync();
        }
    }

    /// <summary>How Kestrel's answer went.</summary>
    public enum Relay
    {
        /// <summary>Relayed whole; the next request is the fast path's to read.</summary>
        Whole,

        /// <summary>Relayed whole, and Kestrel closes the connection after it.</summary>
        Closed,

        /// <summary>Not framed as the relay reads it: nothing of it was written; <see cref="PumpAsync"/> must carry the rest.</summary>
        Unframed,

        /// <summary>Cut short, or the client left: the connection ends.</summary>
        Broken,
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    // The client's connection as Kestrel knows it, with the pipes in place of the socket.
    private sealed class InnerConnection(ConnectionContext client, IDuplexPipe transport) : ConnectionContext
    {
        public override string ConnectionId
        {
            get => client.ConnectionId;
            set => client.ConnectionId = value;
        }

        public override IFeatureCollection Features => client.Features;

        public override IDictionary<object, object?> Items
        {
            get => client.Items;
            set => client.Items = value;
        }

        public override IDuplexPipe Transport { get; set; } = transport;

        public override EndPoint? LocalEndPoint
        {
            get => client.LocalEndPoint;
            set => client.LocalEndPoint = value;
        }

        public override EndPoint? RemoteEndPoint
        {
            get => client.RemoteEndPoint;
            set => client.RemoteEndPoint = value;
        }

        public override CancellationToken ConnectionClosed
        {
            get => client.ConnectionClosed;
            set => client.ConnectionClosed = value;
        }

        public override void Abort(ConnectionAbortedException abortReason) => client.Abort(abortReason);
    }
}
