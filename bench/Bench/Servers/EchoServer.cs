using System.Net.WebSockets;

namespace Bench.Servers;

/// <summary>
/// The fixed WebSocket backend: echoes every message on any path; a POST to /upload is read to its end and
/// answered. Same for every target.
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
                await DrainAsync(context.Request.BodyReader);
                await context.Response.WriteAsync("stored\n");
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

    private static async Task DrainAsync(System.IO.Pipelines.PipeReader body)
    {
        while (true)
        {
            var read = await body.ReadAsync();
            body.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return;
            }
        }
    }
}
