using k8s;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Operator.Api;
using Operator.Configuration;
using Operator.Drivers.Kubernetes;
using Operator.Drivers.Local;
using Operator.Leadership;
using Operator.Reconciliation;
using Operator.Routes;
using Operator.Workspaces;
using ServiceDefaults.Health;
using ServiceDefaults.Redis;

namespace Operator;

public static class OperatorServiceCollectionExtensions
{
    /// <summary>Everything the operator needs, bound to the <c>Operator</c> section; the driver decides where workspaces run.</summary>
    public static IServiceCollection AddOperator(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OperatorOptions>().BindConfiguration(OperatorOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OperatorOptions>, OperatorOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddProblemDetails();
        services.AddExceptionHandler<UpstreamFailureHandler>();

        var driver = configuration.GetSection(OperatorOptions.SectionName).GetValue<DriverKind?>(nameof(OperatorOptions.Driver)) ?? DriverKind.Local;
        if (driver == DriverKind.Kubernetes)
        {
            AddKubernetes(services);
        }
        else
        {
            AddLocal(services);
        }

        services.AddSingleton<IRoutePublisher, RedisRoutePublisher>();
        services.AddSingleton<WorkspaceReconciler>();
        services.AddSingleton<WorkspaceInformer>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkspaceInformer>());
        services.AddHealthChecks().AddCheck<WorkspaceListReadiness>("workspaces", tags: PlatformEndpoints.Readiness);
        services.AddHostedService<WorkspaceController>();
        services.AddSingleton<WorkspaceWaiter>();
        return services;
    }

    private static void AddKubernetes(IServiceCollection services)
    {
        services.AddSingleton(sp => KubernetesConfiguration.Load(sp.GetRequiredService<IOptions<OperatorOptions>>().Value.Kubernetes));
        services.AddSingleton<IKubernetes>(sp => new k8s.Kubernetes(sp.GetRequiredService<KubernetesClientConfiguration>()));
        services.AddSingleton<IWorkspaceStore, KubernetesWorkspaceStore>();
        services.AddSingleton<IWorkspaceDriver, KubernetesWorkspaceDriver>();
        services.AddSingleton<PodWatcher>();
        services.AddSingleton<IWorkloadEvents>(sp => sp.GetRequiredService<PodWatcher>());
        services.AddHostedService(sp => sp.GetRequiredService<PodWatcher>());
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<OperatorOptions>>().Value;
            var configured = options.Kubernetes.LeaderElection.LeaseNamespace;
            return new LeaseNamespace(
                !string.IsNullOrEmpty(configured) ? configured
                : Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } own ? own
                : sp.GetRequiredService<KubernetesClientConfiguration>().Namespace ?? options.Namespace);
        });
        services.AddSingleton<ILeaderElector>(sp => sp.GetRequiredService<IOptions<OperatorOptions>>().Value.Kubernetes.LeaderElection.Enabled
            ? ActivatorUtilities.CreateInstance<LeaseLeaderElector>(sp)
            : new SoleLeader());
    }

    private static void AddLocal(IServiceCollection services)
    {
        services.AddSingleton<IWorkspaceStore>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<OperatorOptions>>().Value;
            var workspaces = new ObjectTable(WorkspaceResource.Resource, new VersionClock());
            LocalObjectFile.Attach(workspaces, Path.Combine(Path.GetFullPath(options.Local.DataDirectory), "workspaces.json"));
            return new InMemoryWorkspaceStore(workspaces, options.Namespace);
        });
        services.AddSingleton<LocalProcessDriver>();
        services.AddSingleton<IWorkspaceDriver>(sp => sp.GetRequiredService<LocalProcessDriver>());
        services.AddSingleton<IWorkloadEvents>(sp => sp.GetRequiredService<LocalProcessDriver>());
        services.AddSingleton<IListeningPorts>(sp => sp.GetRequiredService<LocalProcessDriver>());
        services.AddSingleton<ILeaderElector, SoleLeader>();

        // Registered before the controller, so it stops after it: nothing restarts an editor it stopped.
        services.AddHostedService<LocalEditorsShutdown>();
    }
}
