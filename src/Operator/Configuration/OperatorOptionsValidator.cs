using System.Text;
using Contracts.Routing;
using Contracts.Workspaces;
using Microsoft.Extensions.Options;
using Operator.Drivers.Kubernetes;
using Operator.Drivers.Local;
using Operator.Workspaces;

namespace Operator.Configuration;

/// <summary>Refuses to start on settings that cannot work, naming the key.</summary>
internal sealed class OperatorOptionsValidator : IValidateOptions<OperatorOptions>
{
    public ValidateOptionsResult Validate(string? name, OperatorOptions options)
    {
        var failures = new List<string>();
        if (!WorkspaceIds.DnsLabel().IsMatch(options.Namespace))
        {
            failures.Add($"Operator:Namespace '{options.Namespace}' is not a Kubernetes namespace name");
        }

        options.Redis.Validate("Operator:Redis", OperatorApplication.ServiceName, failures);
        if (options.Routes.Redis is not null)
        {
            failures.Add("Operator:Routes:Redis was renamed: set Operator:Redis:Configuration instead (beside it Operator:Redis:User, PasswordFile and TlsCaFile)");
        }

        if (string.IsNullOrWhiteSpace(options.Routes.HashKey) || string.IsNullOrWhiteSpace(options.Routes.SharesHashKey) || string.IsNullOrWhiteSpace(options.Routes.InvalidationChannel))
        {
            failures.Add("Operator:Routes:HashKey, SharesHashKey and InvalidationChannel are required (they must match the gateway's Gateway:Routes)");
        }

        var reconcile = options.Reconcile;
        if (reconcile.Workers is < 1 or > 64)
        {
            failures.Add("Operator:Reconcile:Workers must be between 1 and 64");
        }

        foreach (var (key, value) in new[]
        {
            ("Reconcile:ResyncInterval", reconcile.ResyncInterval),
            ("Reconcile:PollInterval", reconcile.PollInterval),
            ("Reconcile:InitialBackoff", reconcile.InitialBackoff),
            ("Reconcile:MaxBackoff", reconcile.MaxBackoff),
            ("Api:MaxWait", options.Api.MaxWait),
            ("Local:StartTimeout", options.Local.StartTimeout),
            ("Local:StopTimeout", options.Local.StopTimeout),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"Operator:{key} must be positive");
            }
        }

        if (options.Api.DefaultWait < TimeSpan.Zero || options.Api.DefaultWait > options.Api.MaxWait)
        {
            failures.Add("Operator:Api:DefaultWait must be between 0 and Operator:Api:MaxWait");
        }

        if (options.Driver == DriverKind.Local && string.IsNullOrWhiteSpace(options.Local.DataDirectory))
        {
            failures.Add("Operator:Local:DataDirectory is required with the Local driver");
        }
        else if (options.Driver == DriverKind.Local)
        {
            ValidateIsolation(options.Local, failures);
        }

        if (options.Local.EditorSettingsFile is not null)
        {
            failures.Add("Operator:Local:EditorSettingsFile moved: set Operator:EditorSettingsFile instead (it applies to both drivers)");
        }

        if (options.EditorSettingsFile.Length > 0 && EditorSettings.TryRead(options.EditorSettingsFile, out var problem) is null)
        {
            failures.Add($"Operator:EditorSettingsFile: {problem}");
        }

        var election = options.Kubernetes.LeaderElection;
        if (options.Driver == DriverKind.Kubernetes && election.Enabled
            && (election.RenewInterval <= TimeSpan.Zero || election.LeaseDuration < election.RenewInterval * 2))
        {
            failures.Add("Operator:Kubernetes:LeaderElection:LeaseDuration must be at least twice RenewInterval (a renewal may fail once)");
        }

        if (options.Driver == DriverKind.Kubernetes && options.Kubernetes.VolumeAccessMode is not ("ReadWriteOnce" or "ReadWriteMany" or "ReadWriteOncePod"))
        {
            failures.Add("Operator:Kubernetes:VolumeAccessMode must be ReadWriteOnce, ReadWriteOncePod or ReadWriteMany");
        }

        options.Telemetry.Validate("Operator:Telemetry", failures);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    // Each editor as its own user must reach its folder through the data folder's parents, and its socket's
    // path must fit a socket address.
    private static void ValidateIsolation(LocalOptions local, List<string> failures)
    {
        if (local.Isolation == EditorIsolation.Users && !Environment.IsPrivilegedProcess)
        {
            failures.Add("Operator:Local:Isolation=Users needs the operator to run as root: it starts each editor as the workspace's own user (or set it to None, or Auto)");
            return;
        }

        if (!EditorAccounts.AreSeparate(local))
        {
            return;
        }

        var root = Path.GetFullPath(local.DataDirectory);
        if (EditorAccounts.FirstBarrier(root) is { } barrier)
        {
            failures.Add($"Operator:Local:DataDirectory ({root}) is inside {barrier}, which other users cannot pass through: each workspace's editor runs as its own user and must reach its folder. Choose a folder outside a private home (./run.sh as root uses /var/lib/cloud-ide), or set Operator:Local:Isolation to None");
        }

        var longest = EditorAccounts.LongestSocket(root, local);
        if (Encoding.UTF8.GetByteCount(longest) > UnixSocketRoute.MaxPathBytes)
        {
            failures.Add($"Operator:Local:DataDirectory ({root}) is too long for the editors' sockets: a socket's path may take {UnixSocketRoute.MaxPathBytes} bytes, and {longest} takes {Encoding.UTF8.GetByteCount(longest)}");
        }
    }
}
