using System.Diagnostics;

namespace Tests.Common;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, owned by the test class that uses it and stopped by
/// PID. Can be paused (SIGSTOP) and resumed to stand in for a hung server. Nothing is saved unless a test
/// asks (<c>SAVE</c>); a restart then loads that snapshot, as a server with persistence would. With
/// <see cref="RedisUsers"/> it loads the platform's ACL users (the tests' own client signs in as admin);
/// with <see cref="RedisTls"/> it speaks TLS only.
/// </summary>
public sealed class RedisServer : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("redis-test-").FullName;
    private readonly string[] _extraArguments;
    private Process? _process;

    public RedisServer(params string[] extraArguments)
        : this(users: null, tls: null, extraArguments)
    {
    }

    public RedisServer(RedisUsers? users, RedisTls? tls = null, params string[] extraArguments)
    {
        Users = users;
        Tls = tls;
        _extraArguments = extraArguments;
    }

    public RedisUsers? Users { get; }

    public RedisTls? Tls { get; }

    /// <summary>The process id, while it runs.</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    public int Port { get; private set; }

    /// <summary>Where the server is, as a program's <c>Redis:Configuration</c> names it (users sign in with their own settings).</summary>
    public string Configuration => Tls is null ? $"127.0.0.1:{Port}" : $"127.0.0.1:{Port},ssl=true";

    /// <summary>The settings a program's <paramref name="section"/> needs to sign in as <paramref name="user"/>; none without users.</summary>
    public string[] SignIn(string section, string user) => Users?.SignIn(section, user) ?? [];

    /// <summary>The tests' own client: signed in as admin when the server has users.</summary>
    public string AdminConfiguration => Users is null ? Configuration : Users.ConfigurationFor(Configuration, RedisUsers.Admin);

    public Task InitializeAsync() => StartAsync(port: null);

    /// <summary>Kills the server (its data is gone, as after a crash without persistence).</summary>
    public void Kill() => Stop();

    /// <summary>SIGTERM, as a restart or an OOM-killer's polite sibling sends it; returns once it has exited.</summary>
    public void Terminate()
    {
        if (_process is { HasExited: false })
        {
            Signal("TERM");
            _process.WaitForExit(5000);
        }

        Stop();
    }

    /// <summary>Starts a fresh, empty server on the same port.</summary>
    public Task RestartAsync() => StartAsync(Port);

    private async Task StartAsync(int? port)
    {
        for (var attempt = 0; ; attempt++)
        {
            Port = port ?? FreePort.Next();
            var start = new ProcessStartInfo("redis-server")
            {
                ArgumentList = { "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning", "--dir", _directory },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            var portNumber = Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string[] listen = Tls is null
                ? ["--port", portNumber]
                : ["--port", "0", "--tls-port", portNumber, "--tls-cert-file", Tls.CertificateFile, "--tls-key-file", Tls.KeyFile, "--tls-ca-cert-file", Tls.AuthorityFile, "--tls-auth-clients", "no"];
            string[] users = Users is null ? [] : ["--aclfile", Users.AclFile];
            foreach (var argument in listen.Concat(users).Concat(_extraArguments))
            {
                start.ArgumentList.Add(argument);
            }

            _process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start");
            _process.OutputDataReceived += (_, _) => { };
            _process.ErrorDataReceived += (_, _) => { };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();

            if (await WaitUntilReadyAsync())
            {
                return;
            }

            Stop();
            if (attempt == 3)
            {
                throw new InvalidOperationException("redis-server did not become ready; is it installed (apt-get install -y redis-server)?");
            }
        }
    }

    public Task DisposeAsync()
    {
        Stop();
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    public RedisTestClient Connect() => new(AdminConfiguration, Tls?.AuthorityFile);

    /// <summary>SIGSTOP: the socket stays open and nothing answers, like a hung server.</summary>
    public void Pause() => Signal("STOP");

    public void Resume() => Signal("CONT");

    private void Signal(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private async Task<bool> WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (DateTime.UtcNow < deadline && !_process!.HasExited)
        {
            try
            {
                using var client = Connect();
                if (await client.ExecuteAsync("PING") is "PONG")
                {
                    return true;
                }
            }
            catch (StackExchange.Redis.RedisConnectionException)
            {
            }

            await Task.Delay(20);
        }

        return false;
    }

    private void Stop()
    {
        if (_process is { HasExited: false })
        {
            Resume();
            _process.Kill();
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        _process = null;
    }
}
