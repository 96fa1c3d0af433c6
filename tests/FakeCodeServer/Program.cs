using System.Diagnostics;

// code-server's command line: --bind-addr host:port | --socket <path> [--socket-mode <octal>] [--flag value | --flag]... <folder>
string? bind = null;
string? socket = null;
string? socketMode = null;
string? folder = null;
string? userDataDir = null;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--bind-addr":
            bind = args[++i];
            break;
        case "--socket":
            socket = args[++i];
            break;
        case "--socket-mode":
            socketMode = args[++i];
            break;
        case "--user-data-dir":
            userDataDir = args[++i];
            break;
        case "--auth" or "--extensions-dir" or "--config":
            i++;
            break;
        default:
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                folder = args[i];
            }

            break;
    }
}

if ((bind is null && socket is null) || folder is null)
{
    Console.Error.WriteLine("usage: FakeCodeServer --bind-addr host:port | --socket <path> [...] <folder>");
    return 2;
}

if (Environment.GetEnvironmentVariable("FAKE_CODE_SERVER_FAIL") is { Length: > 0 } failure)
{
    Console.Error.WriteLine("failing on purpose: " + failure);
    return 3;
}

// An editor that keeps failing in one workspace only: a file a test puts beside its user data.
if (userDataDir is not null && File.Exists(Path.Combine(userDataDir, "fail-to-start")))
{
    Console.Error.WriteLine("failing on purpose: fail-to-start is present");
    return 4;
}

// code-server takes seconds to answer; a test that watches a start's progress asks for as long.
if (userDataDir is not null && File.Exists(Path.Combine(userDataDir, "start-delay-ms")))
{
    await Task.Delay(int.Parse(File.ReadAllText(Path.Combine(userDataDir, "start-delay-ms")).Trim(), System.Globalization.CultureInfo.InvariantCulture));
}

// Like the editor's extension host and terminals: a child that must die with its parent's group.
using var child = Process.Start(new ProcessStartInfo("sleep", "600") { UseShellExecute = false })!;
File.WriteAllText(Path.Combine(userDataDir ?? folder, "child.pid"), child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));

// What a user does from a terminal with `setsid sleep 4242 &` or a daemon: a process in a session (and so a
// process group) of its own, out of reach of a signal to the editor's group. Asked for by a file beside the user data.
if (userDataDir is not null && File.Exists(Path.Combine(userDataDir, "start-daemon")))
{
    using var daemon = Process.Start(new ProcessStartInfo("setsid", ["-f", "/bin/sh", "-c", "echo $$ > \"$0\"; exec sleep 600", Path.Combine(userDataDir, "daemon.pid")]) { UseShellExecute = false })!;
    await daemon.WaitForExitAsync();
}

var builder = WebApplication.CreateSlimBuilder();
builder.Logging.ClearProviders();
if (socket is not null)
{
    // As code-server does: --socket wins over --bind-addr, a stale socket file is replaced.
    File.Delete(socket);
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(socket));
}
else
{
    builder.WebHost.UseUrls("http://" + bind);
}

var app = builder.Build();
app.MapGet("/healthz", () => Results.Json(new { status = "alive" }));
app.MapGet("/", () => Results.Content(
    $"<!doctype html><title>fake code-server</title><h1>Editor for {System.Net.WebUtility.HtmlEncode(folder)}</h1>",
    "text/html"));
app.MapGet("/whoami", () => Results.Text(folder));

// code-server's port proxy, standing in for a dev server listening on that port inside the workspace.
app.MapGet("/proxy/{port:int}/{**rest}", (int port, string? rest) => Results.Text($"dev server on {port} in {folder}: /{rest}"));
app.MapGet("/env/{name}", (string name) => Environment.GetEnvironmentVariable(name) is { } value ? Results.Text(value) : Results.NotFound());
app.MapGet("/files/{name}", (string name) =>
    File.Exists(Path.Combine(folder, name)) ? Results.Text(File.ReadAllText(Path.Combine(folder, name))) : Results.NotFound());
app.MapPut("/files/{name}", async (string name, HttpRequest request) =>
{
    using var reader = new StreamReader(request.Body);
    await File.WriteAllTextAsync(Path.Combine(folder, name), await reader.ReadToEndAsync());
    return Results.NoContent();
});
// What a workspace's terminal could try, asked of the editor that runs it: read a file, list a folder, connect
// to a socket; and what the kernel says of it (/proc/self/status: Uid, Gid, NoNewPrivs, CapEff, CapBnd...).
app.MapGet("/probe/read", (string path) =>
{
    try
    {
        return Results.Text("read: " + File.ReadAllText(path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture) + " chars");
    }
    catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
    {
        return Results.Text("denied: " + ex.GetType().Name, statusCode: 403);
    }
});
app.MapGet("/probe/list", (string path) =>
{
    try
    {
        return Results.Text("listed: " + Directory.GetFileSystemEntries(path).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
    catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
    {
        return Results.Text("denied: " + ex.GetType().Name, statusCode: 403);
    }
});
app.MapGet("/probe/connect", async (string socket) =>
{
    using var client = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
    try
    {
        await client.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(socket));
        return Results.Text("connected");
    }
    catch (System.Net.Sockets.SocketException ex)
    {
        return Results.Text("denied: " + ex.SocketErrorCode, statusCode: 403);
    }
});
app.MapGet("/probe/status/{field}", (string field) =>
    File.ReadLines("/proc/self/status").FirstOrDefault(line => line.StartsWith(field + ":", StringComparison.Ordinal)) is { } line
        ? Results.Text(line.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1].Trim())
        : Results.NotFound());

await app.StartAsync();
if (socket is not null && socketMode is not null && !OperatingSystem.IsWindows())
{
    File.SetUnixFileMode(socket, (UnixFileMode)Convert.ToInt32(socketMode, 8));
}

Console.WriteLine($"fake code-server on {socket ?? bind} for {folder}");
await app.WaitForShutdownAsync();
return 0;
