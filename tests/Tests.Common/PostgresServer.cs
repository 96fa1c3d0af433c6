using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;

namespace Tests.Common;

/// <summary>
/// A real PostgreSQL server (Debian's package) in a temporary data directory on a free loopback port,
/// trust authentication, stopped by PID. As root it runs as the <c>postgres</c> user (setpriv execs in
/// place, so the PID is the server's own).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("pg-test");
    private Process? _server;

    public int Port { get; private set; }

    public string ConnectionString(string database) => $"Host=127.0.0.1;Port={Port};Username=postgres;Database={database};Pooling=true";

    public static async Task<PostgresServer> StartAsync()
    {
        var server = new PostgresServer();
        await server.InitializeAsync();
        return server;
    }

    /// <summary>Stops the server (PostgreSQL's fast shutdown), as an outage of the database would.</summary>
    public async Task StopAsync()
    {
        if (_server is { HasExited: false })
        {
            // SIGINT: PostgreSQL's fast shutdown.
            using (var kill = Process.Start("kill", ["-INT", _server.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            if (!_server.WaitForExit(10_000))
            {
                _server.Kill();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _server?.Dispose();
        _data.Delete(recursive: true);
    }

    private async Task InitializeAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin")).FirstOrDefault(d => File.Exists(Path.Combine(d, "postgres")))
            ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install -y postgresql); .ci/run installs it");
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            using var chown = Process.Start("chown", ["-R", "postgres:postgres", _data.FullName]);
            await chown.WaitForExitAsync();
        }

        var initdb = Start(bin, asRoot, "initdb", ["-D", Path.Combine(_data.FullName, "db"), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
        await initdb.WaitForExitAsync();
        if (initdb.ExitCode != 0)
        {
            throw new InvalidOperationException("initdb failed: " + await initdb.StandardError.ReadToEndAsync());
        }

        Port = FreePort.Next();
        _server = Start(bin, asRoot, "postgres",
        [
            "-D", Path.Combine(_data.FullName, "db"), "-p", Port.ToString(CultureInfo.InvariantCulture), "-k", _data.FullName,
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
        ]);
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync("127.0.0.1", Port);
                await Task.Delay(200);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_server.HasExited)
            {
                await Task.Delay(100);
            }
        }
    }

    private static Process Start(string bin, bool asRoot, string program, string[] arguments)
    {
        var start = new ProcessStartInfo(asRoot ? "setpriv" : Path.Combine(bin, program)) { RedirectStandardOutput = true, RedirectStandardError = true };
        if (asRoot)
        {
            foreach (var argument in (string[])["--reuid=postgres", "--regid=postgres", "--init-groups", "--", Path.Combine(bin, program)])
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
    }
}
