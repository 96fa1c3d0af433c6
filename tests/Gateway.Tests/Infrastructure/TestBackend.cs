using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Infrastructure;

/// <summary>What a backend saw of one request.</summary>
public sealed record EchoReply(string Backend, string RawTarget, string Path, string Query, Dictionary<string, string> Headers);

/// <summary>
/// A real Kestrel server standing in for a workspace: echoes what it received, streams on cue, serves a
/// WebSocket echo that checks Origin the way code-server does, and counts the requests it got.
/// </summary>
public sealed class TestBackend : IAsyncDisposable
{
    public const int ChunkSize = 64 * 1024;

    private readonly WebApplication _app;
    private int _requests;

    private TestBackend(string name, WebApplication app)
    {
        Name = name;
        _app = app;
    }

    public string Name { get; }

    public string Address { get; private set; } = "";

    public int Requests => Volatile.Read(ref _requests);

    /// <summary>Completed by the test to let a streaming endpoint send the rest of its body.</summary>
    public TaskCompletionSource Release { get; private set; } = NewSignal();

    /// <summary>Completed by the backend when the first upload chunk has arrived.</summary>
    public TaskCompletionSource FirstUploadChunkReceived { get; private set; } = NewSignal();

    public static async Task<TestBackend> StartAsync(string name, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var backend = new TestBackend(name, app);
        backend.Map(app);
        await app.StartAsync();
        var bound = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        backend.Address = $"127.0.0.1:{bound.Port}";
        return backend;
    }

    /// <summary>The same backend on a Unix socket (an editor of the local driver); <see cref="Address"/> is its <c>unix:</c> route.</summary>
    public static async Task<TestBackend> StartOnUnixSocketAsync(string name, string socketPath)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(socketPath));
        var app = builder.Build();
        var backend = new TestBackend(name, app);
        backend.Map(app);
        await app.StartAsync();
        backend.Address = Contracts.Routing.UnixSocketRoute.Format(socketPath);
        return backend;
    }

    public void ResetSignals()
    {
        Release = NewSignal();
        FirstUploadChunkReceived = NewSignal();
    }

    public async ValueTask DisposeAsync()
    {
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1)))
        {
            await _app.StopAsync(stop.Token);
        }

        await _app.DisposeAsync();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The body <c>/random/&lt;bytes&gt;</c> serves: the same bytes for the same length, on both sides of a test.</summary>
    public static byte[] RandomBody(int bytes)
    {
        var body = new byte[bytes];
        new Random(bytes).NextBytes(body);
        return body;
    }

    private void Map(WebApplication app)
    {
        app.UseWebSockets();
        app.Use((context, next) =>
        {
            Interlocked.Increment(ref _requests);
            context.Response.Headers["X-Backend"] = Name;
            return next(context);
        });

        app.MapGet("/sse", async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n");
            await context.Response.Body.FlushAsync();
            await Release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            await context.Response.WriteAsync("data: second\n\n");
        });

        app.MapGet("/download", async context =>
        {
            context.Response.ContentType = "application/octet-stream";
            var chunk = new byte[ChunkSize];
            await context.Response.Body.WriteAsync(chunk);
            await context.Response.Body.FlushAsync();
            await Release.Task.WaitAsync(TimeSpan.FromSeconds(30));
            for (var i = 0; i < 15; i++)
            {
                await context.Response.Body.WriteAsync(chunk);
            }
        });

        app.MapPost("/upload", async context =>
        {
            var buffer = new byte[ChunkSize];
            long total = 0;
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                total += read;
                if (total >= ChunkSize)
                {
                    FirstUploadChunkReceived.TrySetResult();
                }
            }

            await context.Response.WriteAsync(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });

        // Integrity through the gateway: the SHA-256 of what arrived, and a body anyone can recompute.
        app.MapPost("/digest", async context =>
        {
            using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var buffer = new byte[ChunkSize];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                sha.AppendData(buffer, 0, read);
            }

            await context.Response.WriteAsync(Convert.ToHexString(sha.GetHashAndReset()));
        });

        app.MapGet("/random/{bytes:int}", async (HttpContext context, int bytes) =>
        {
            context.Response.ContentLength = bytes;
            await context.Response.Body.WriteAsync(RandomBody(bytes));
        });

        // A workspace that dies mid-answer: promises 1,000 bytes, sends 10, and closes (a FIN after them: a reset
        // could discard what the gateway has not read yet).
        app.MapGet("/cut", async context =>
        {
            context.Response.ContentLength = 1000;
            await context.Response.Body.WriteAsync(new byte[10]);
            await context.Response.Body.FlushAsync();
            await Task.Delay(50);
            context.Features.Get<IConnectionSocketFeature>()!.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            await Task.Delay(100);
            context.Abort();
        });

        // A workspace that answers in full and then closes the connection without saying so (no Connection: close).
        app.MapGet("/then-close", async context =>
        {
            context.Response.ContentLength = 4;
            await context.Response.WriteAsync("done");
            await context.Response.CompleteAsync();

            // Kestrel's transport sends on its own loop: the FIN must not overtake the answer.
            await Task.Delay(50);
            context.Features.Get<IConnectionSocketFeature>()!.Socket.Shutdown(System.Net.Sockets.SocketShutdown.Send);
            await Task.Delay(100);
            context.Abort();
        });

        // An answer whose head alone is this many bytes (a long field), and a short body.
        app.MapGet("/head/{bytes:int}", (HttpContext context, int bytes) =>
        {
            context.Response.Headers["X-Long"] = new string('h', bytes);
            return Results.Text("after a long head");
        });

        app.MapGet("/status/{code:int}", (int code) => Results.Text($"{Name} answered {code}", statusCode: code));

        app.MapGet("/slow", async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
            await context.Response.WriteAsync("late");
        });

        app.MapGet("/set-cookie", (HttpContext context) =>
        {
            context.Response.Headers.Append("Set-Cookie", "app=1; Path=/");
            context.Response.Headers.Append("Set-Cookie", "gw_session=planted; Path=/ws/other/; HttpOnly");
            return Results.Text("cookies set");
        });

        // A workspace trying to lift or pin the platform's HSTS.
        app.MapGet("/hsts", (HttpContext context) =>
        {
            context.Response.Headers.StrictTransportSecurity = "max-age=0";
            return Results.Text("hsts set");
        });

        app.Map("/socket", HandleWebSocketAsync);

        // A dev server's WebSocket, reached the way code-server's port proxy reaches it.
        app.Map("/proxy/{port:int}/socket", HandleWebSocketAsync);

        // A workspace that dies mid-session: greets, and at the client's next message its connection
        // drops without a close frame.
        app.Map("/socket-dies", async context =>
        {
            using var socket = await context.WebSockets.AcceptWebSocketAsync();
            await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            await socket.ReceiveAsync(new byte[64], context.RequestAborted);
            context.Abort();
        });

        app.Map("/{**path}", async (HttpContext context) =>
        {
            // The editor's page as code-server serves it: HTML at the root, for a browser; and a dev server's.
            if ((context.Request.Path == "/" || context.Request.Path == "/proxy/3000/") && context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.Ordinal))
            {
                context.Response.ContentType = "text/html; charset=utf-8";
                context.Response.Headers["X-Accept-Encoding-Seen"] = context.Request.Headers.AcceptEncoding.ToString();
                var page = Encoding.UTF8.GetBytes(WorkbenchPage(Name, int.Parse(context.Request.Query["padding"].FirstOrDefault() ?? "0", System.Globalization.CultureInfo.InvariantCulture)));
                if (context.Request.Query.ContainsKey("unsized"))
                {
                    await context.Response.Body.WriteAsync(page.AsMemory(0, 10));
                    await context.Response.Body.FlushAsync();
                    await context.Response.Body.WriteAsync(page.AsMemory(10));
                    return;
                }

                context.Response.ContentLength = page.Length;
                await context.Response.Body.WriteAsync(page);
                return;
            }

            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var reply = new EchoReply(
                Name,
                context.Features.Get<IHttpRequestFeature>()!.RawTarget,
                context.Request.Path.Value ?? "",
                context.Request.QueryString.Value ?? "",
                headers);
            await context.Response.WriteAsJsonAsync(reply);
        });
    }

    /// <summary>What the backend answers a browser at its root: a page shaped like code-server's workbench.</summary>
    public static string WorkbenchPage(string name, int padding = 0) =>
        $"<!DOCTYPE html>\n<html>\n\t<HEAD lang=\"en\">\n\t\t<meta charset=\"utf-8\" />\n\t\t<title>{name}</title>\n\t</HEAD>\n\t<body>workbench {name}{new string('.', padding)}</body>\n</html>\n";

    // code-server refuses a WebSocket whose Origin host matches neither X-Forwarded-Host nor Host.
    private async Task HandleWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var origin = context.Request.Headers.Origin.ToString();
        var forwardedHost = context.Request.Headers["X-Forwarded-Host"].ToString();
        var host = string.IsNullOrEmpty(forwardedHost) ? context.Request.Host.Value : forwardedHost;
        if (origin.Length > 0 && !string.Equals(new Uri(origin).Authority, host, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            WebSocketReceiveResult result;
            try
            {
                result = await socket.ReceiveAsync(buffer, context.RequestAborted);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                return;
            }

            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                return;
            }

            var reply = result.MessageType == WebSocketMessageType.Text
                ? System.Text.Encoding.UTF8.GetBytes($"{Name}:" + System.Text.Encoding.UTF8.GetString(buffer, 0, result.Count))
                : buffer[..result.Count];
            await socket.SendAsync(reply, result.MessageType, result.EndOfMessage, CancellationToken.None);
        }
    }

    public static EchoReply ParseEcho(string json) =>
        JsonSerializer.Deserialize<EchoReply>(json, JsonSerializerOptions.Web) ?? throw new InvalidOperationException("empty echo");
}
