using Microsoft.Extensions.Options;
using WorkspaceOperator.Kubernetes;

namespace WorkspaceOperator.Configuration;

/// <summary>Refuses to start on settings that cannot work, naming the key.</summary>
internal sealed class OperatorOptionsValidator : IValidateOptions<OperatorOptions>
{
    public ValidateOptionsResult Validate(string? name, OperatorOptions options)
    {
        var failures = new List<string>();
        if (!KubernetesNames.DnsLabel().IsMatch(options.Namespace))
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
}
