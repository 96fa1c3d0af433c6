using k8s;
using Operator.Configuration;

namespace Operator.Drivers.Kubernetes;

/// <summary>Where the API server is and how to authenticate, loaded by the official client.</summary>
internal static class KubernetesConfiguration
{
    /// <summary>
    /// An explicit server (tests, <c>kubectl proxy</c>), else the kubeconfig file named, else the pod's
    /// service account when running in a cluster, else <c>KUBECONFIG</c> or <c>~/.kube/config</c>.
    /// </summary>
    public static KubernetesClientConfiguration Load(KubernetesOptions options)
    {
        if (!string.IsNullOrEmpty(options.Server))
        {
            return new KubernetesClientConfiguration
            {
                Host = options.Server,
                AccessToken = string.IsNullOrEmpty(options.Token) ? null : options.Token,
            };
        }

        KubernetesClientConfiguration configuration;
        if (!string.IsNullOrEmpty(options.KubeConfig))
        {
            configuration = FromFile(options.KubeConfig);
        }
        else if (KubernetesClientConfiguration.IsInCluster())
        {
            // The library re-reads the service account's token file, which the kubelet rotates.
            configuration = KubernetesClientConfiguration.InClusterConfig();
        }
        else
        {
            var path = Environment.GetEnvironmentVariable("KUBECONFIG")?.Split(':', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()
                ?? KubernetesClientConfiguration.KubeConfigDefaultLocation;
            configuration = FromFile(path);
        }

        // The operator holds rights over every workspace pod; it does not talk to an unverified server.
        if (configuration.SkipTlsVerify)
        {
            throw new InvalidOperationException("the kubeconfig sets insecure-skip-tls-verify, which the operator refuses: give the cluster's certificate-authority instead");
        }

        return configuration;
    }

    private static KubernetesClientConfiguration FromFile(string path) =>
        File.Exists(path)
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(path)
            : throw new InvalidOperationException(
                $"No Kubernetes API to talk to: not in a pod (no service account), and no kubeconfig at {path}. Set Operator:Kubernetes:KubeConfig, or use Operator:Driver=Local on one machine.");
}
