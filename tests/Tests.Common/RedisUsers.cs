using System.Diagnostics;
using System.Security.Cryptography;

namespace Tests.Common;

/// <summary>
/// The platform's Redis users as deployments make them: the rules of <c>config/redis-users.acl</c> with a
/// fresh password per user in a folder of password files, rendered into an ACL file by
/// <c>deploy/base/redis/redis-acl.sh</c> (the script Kubernetes and ./run.sh run), and synced into a running
/// server by the same script.
/// </summary>
public sealed class RedisUsers
{
    public const string Gateway = "gateway";
    public const string Operator = "operator";
    public const string WebApi = "webapi";
    public const string Admin = "admin";

    private readonly DirectoryInfo _directory = Directory.CreateTempSubdirectory("redis-users-");

    public RedisUsers(string? rules = null)
    {
        RulesFile = rules ?? Path.Combine(RepositoryPaths.Root, "config", "redis-users.acl");
        Directory.CreateDirectory(PasswordDirectory);
        foreach (var user in new[] { Gateway, Operator, WebApi, Admin })
        {
            SetPasswords(user, NewPassword());
        }

        Render();
    }

    public string RulesFile { get; }

    /// <summary>One file per user, named after it, one password a line (the shape of the Kubernetes Secret).</summary>
    public string PasswordDirectory => Path.Combine(_directory.FullName, "passwords");

    /// <summary>What <c>redis-server --aclfile</c> loads.</summary>
    public string AclFile => Path.Combine(_directory.FullName, "users.acl");

    public static string NewPassword() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    public string PasswordFile(string user) => Path.Combine(PasswordDirectory, user);

    /// <summary>The password a program uses: the file's last line.</summary>
    public string Password(string user) => File.ReadAllLines(PasswordFile(user)).Last(line => line.Length > 0);

    /// <summary>Replaces <paramref name="user"/>'s password lines (a rotation writes the old and the new).</summary>
    public void SetPasswords(string user, params string[] passwords) =>
        File.WriteAllLines(PasswordFile(user), passwords);

    /// <summary>The settings a program signs in with: <c>--&lt;section&gt;:User=...</c> and <c>PasswordFile</c>.</summary>
    public string[] SignIn(string section, string user) => [$"--{section}:User={user}", $"--{section}:PasswordFile={PasswordFile(user)}"];

    /// <summary>A StackExchange.Redis configuration string for <paramref name="user"/> on <paramref name="server"/>.</summary>
    public string ConfigurationFor(string server, string user) => $"{server},user={user},password={Password(user)}";

    public void Render() => File.WriteAllText(AclFile, Run("render"));

    /// <summary>Makes the running server's passwords those of the files (the sidecar's job in Kubernetes).</summary>
    public void Sync(int port) => Run("sync", "-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--user", Admin, "--pass", Password(Admin));

    private string Run(string mode, params string[] redisCli)
    {
        var start = new ProcessStartInfo("sh")
        {
            ArgumentList = { Path.Combine(RepositoryPaths.Root, "deploy", "base", "redis", "redis-acl.sh"), mode, RulesFile, PasswordDirectory },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in redisCli)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("sh did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return process.ExitCode == 0
            ? output.Result
            : throw new InvalidOperationException($"redis-acl.sh {mode} failed ({process.ExitCode}): {error.Result}");
    }

    /// <summary>Removes the password files and the rendered ACL.</summary>
    public void Delete() => _directory.Delete(recursive: true);
}
