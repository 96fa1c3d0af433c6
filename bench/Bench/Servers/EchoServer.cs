using System.Net.WebSockets;

namespace Bench.Servers;

/// <summary>
/// The fixed WebSocket backend: echoes every message on any path; a POST to /upload is read to its end and
/// answered with its length and XxHash64, so a client can tell an upload that arrived whole. Same for every target.
/// </summary>
internal static class EchoServer
{
    public static async Task RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxConcurrentConnections = null;
            k.Limits.MaxRequestBodySize = null;
        });
        var app = builder.Build();
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.Zero });
        app.Run(async context =>
        {
            if (HttpMethods.IsPost(context.Request.Method) && context.Request.Path.StartsWithSegments("/upload"))
            {
                var (length, hash) = await DrainAsync(context.Request.BodyReader);
                await context.Response.WriteAsync($"stored {length} {hash:x16}\n");
                return;
            }

            if (!context.WebSockets.IsWebSocketRequest)
            {
                await context.Response.WriteAsync("echo\n");
                return;
            }

            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            // Large enough that a 64 KiB message usually goes back as one frame, as it came.
            var buffer = new byte[128 * 1024];
            try
            {
                while (true)
                {
                    var result = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
                        return;
                    }

                    await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, CancellationToken.None);
                }
            }
            catch (WebSocketException)
            {
            }
        });
        await app.RunAsync();
    }

    private static async Task<(long Length, ulong Hash)> DrainAsync(System.IO.Pipelines.PipeReader body)
    {
        var hash = new System.IO.Hashing.XxHash64();
        long length = 0;
        while (true)
        {
            var read = await body.ReadAsync();
            foreach (var segment in read.Buffer)
            {
                hash.Append(segment.Span);
            }

            length += read.Buffer.Length;
            body.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return (length, hash.GetCurrentHashAsUInt64());
            }
        }
    }
}
