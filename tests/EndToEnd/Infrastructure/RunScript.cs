using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace EndToEnd.Infrastructure;

/// <summary>
/// The platform brought up by <c>./run.sh</c> itself, as a newcomer runs it: tools from the
/// repository's ignored tools folder (installed on first use), a Release build, a private Redis, the
/// operator with real code-server editors, the web API on SQLite and the gateway, on free loopback ports
/// and a fresh data folder. <see cref="InterruptAsync"/> is the newcomer's Ctrl-C.
/// </summary>
public sealed partial class RunScript : IAsyncDisposable
{
    // Installing code-server on a machine that lacks it takes about 3 minutes; CI installs it before the tests.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(10);
    private static readonly string[] PortSettings = ["GATEWAY_PORT", "WEBAPI_PORT", "OPERATOR_PORT", "REDIS_PORT", "MAIL_SINK_PORT", "DASHBOARD_PORT", "DASHBOARD_OTLP_PORT"];

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<Uri> _url = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunScript(Process process, string dataDirectory, IReadOnlyDictionary<string, int> ports)
    {
        _process = process;
        DataDirectory = dataDirectory;
        Ports = ports;
    }

    /// <summary>The data folder given to run.sh: logs/, workspaces/, webapi.db, redis/.</summary>
    public string DataDirectory { get; }

    /// <summary>The ports given to run.sh, by setting name (GATEWAY_PORT, ...).</summary>
    public IReadOnlyDictionary<string, int> Ports { get; }

    /// <summary>The URL run.sh printed.</summary>
    public Uri Url { get; private set; } = null!;

    /// <summary>The dashboard's sign-in address, as run.sh printed it beside the page's; null when it printed none.</summary>
    public Uri? DashboardUrl => _output.Select(line => TelemetryLine().Match(line)).FirstOrDefault(match => match.Success) is { } found
        ? new Uri(found.Groups[1].Value)
        : null;

    /// <summary>
    /// The traces the dashboard holds, from its telemetry API (OTLP JSON), asked with the API key run.sh keeps
    /// in the data folder: the spans of each program, by trace.
    /// </summary>
    public async Task<Dictionary<string, List<(string Service, string Span)>>> DashboardTracesAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Ports["DASHBOARD_PORT"]}") };
        http.DefaultRequestHeaders.Add("x-api-key", (await File.ReadAllTextAsync(Path.Combine(DataDirectory, "dashboard-api-key"))).Trim());
        using var document = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync(new Uri("/api/telemetry/traces", UriKind.Relative)));
        var traces = new Dictionary<string, List<(string, string)>>();
        foreach (var resource in document.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var service = resource.GetProperty("resource").GetProperty("attributes").EnumerateArray()
                .First(attribute => attribute.GetProperty("key").GetString() == "service.name").GetProperty("value").GetProperty("stringValue").GetString()!;
            foreach (var span in resource.GetProperty("scopeSpans").EnumerateArray().SelectMany(scope => scope.GetProperty("spans").EnumerateArray()))
            {
                var trace = span.GetProperty("traceId").GetString()!;
                if (!traces.TryGetValue(trace, out var spans))
                {
                    traces[trace] = spans = [];
                }

                spans.Add((service, span.GetProperty("name").GetString()!));
            }
        }

        return traces;
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What run.sh printed so far, ANSI colours removed.</summary>
    public string Output => string.Join('\n', _output);

    /// <param name="settings">config/run.env settings to give besides the ports and the data folder.</param>
    public static async Task<RunScript> StartAsync(params (string Name, string Value)[] settings)
    {
        var data = Directory.CreateTempSubdirectory("run-sh-e2e").FullName;
        var ports = PortSettings.ToDictionary(name => name, _ => FreePort.Next());
        // As from a terminal: SIGINT at its default. A CI job started in the background inherits it ignored
        // (POSIX keeps ignored signals across exec), and bash cannot trap a signal ignored at entry, so
        // Ctrl-C would do nothing. perl (Debian's essential perl-base) resets it and execs in place.
        var start = new ProcessStartInfo("perl", ["-e", "$SIG{INT} = 'DEFAULT'; exec @ARGV or die \"exec: $!\"", "bash", Path.Combine(RepositoryPaths.Root, "run.sh")])
        {
            WorkingDirectory = RepositoryPaths.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["DATA_DIR"] = data;
        foreach (var (name, value) in settings)
        {
            start.Environment[name] = value;
        }

        foreach (var (name, port) in ports)
        {
            start.Environment[name] = port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        // The test host's own MSBuild/VSTest settings must not leak into run.sh's `dotnet build`.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start run.sh");
        var script = new RunScript(process, data, ports);
        process.OutputDataReceived += (_, e) => script.Append(e.Data);
        process.ErrorDataReceived += (_, e) => script.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(script._url.Task, exited, Task.Delay(StartTimeout));
        if (first != script._url.Task)
        {
            var why = first == exited ? $"exited with {process.ExitCode}" : $"printed no URL within {StartTimeout.TotalMinutes} minutes";
            var output = script.Output;
            await script.DisposeAsync();
            throw new InvalidOperationException($"run.sh {why}. It printed:\n{output}");
        }

        script.Url = await script._url.Task;
        return script;
    }

    /// <summary>Ctrl-C: SIGINT to run.sh (its programs run in sessions of their own, as in a terminal, so only run.sh gets it).</summary>
    public async Task<bool> InterruptAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
            await kill.WaitForExitAsync();
        }

        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(deadline.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The last lines of a log under the data folder (logs/gateway.log, workspaces/.editors/&lt;sid&gt;.log).</summary>
    public string Tail(string relativePath, int lines = 30)
    {
        var path = Path.Combine(DataDirectory, relativePath);
        if (!File.Exists(path))
        {
            return $"({relativePath}: none)";
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var all = reader.ReadToEnd().Split('\n');
        return $"--- {relativePath}, last {lines} lines ---\n" + string.Join('\n', all.TakeLast(lines));
    }

    public async ValueTask DisposeAsync()
    {
        // A failed test still must not leave the platform running: Ctrl-C, then SIGKILL of what we started.
        if (!await InterruptAsync(TimeSpan.FromSeconds(60)))
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // An editor that outlived run.sh still writing: the failed assertion says so already.
        }

        RemoveWorkspaceUsers();
    }

    /// <summary>
    /// As root, run.sh gives each workspace a user whose home is its folder; they outlive run.sh as the
    /// workspaces do, so the machine keeps none of this test's once its data folder is gone.
    /// </summary>
    private void RemoveWorkspaceUsers()
    {
        var prefix = DataDirectory.TrimEnd('/') + "/";
        foreach (var user in File.ReadAllLines("/etc/passwd").Select(line => line.Split(':')).Where(fields => fields.Length > 5 && fields[5].StartsWith(prefix, StringComparison.Ordinal)))
        {
            foreach (var (program, name) in new[] { ("userdel", user[0]), ("groupdel", user[0]) })
            {
                using var remove = Process.Start(new ProcessStartInfo(program, [name]) { RedirectStandardError = true })!;
                remove.WaitForExit();
            }
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        line = Ansi().Replace(line, "");
        _output.Enqueue(line);
        if (OpenLine().Match(line) is { Success: true } match)
        {
            _url.TrySetResult(new Uri(match.Groups[1].Value));
        }
    }

    [GeneratedRegex(@"\x1b\[[0-9;]*m")]
    private static partial Regex Ansi();

    [GeneratedRegex(@"Open (https?://\S+)")]
    private static partial Regex OpenLine();

    [GeneratedRegex(@"telemetry \(.*\): (http://\S+)")]
    private static partial Regex TelemetryLine();
}
