using Operator;
using ServiceDefaults.Hosting;

return await PlatformHosting.RunAsync(
    () => OperatorApplication.Create(args),
    OperatorApplication.Program,
    ex => ex is InvalidOperationException && (ex.Message.StartsWith("No Kubernetes API", StringComparison.Ordinal) || ex.Message.StartsWith("kubeconfig", StringComparison.Ordinal))
        ? ex.Message
        : null);
