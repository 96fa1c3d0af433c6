using Microsoft.Extensions.Options;
using WorkspaceOperator;

try
{
    var app = OperatorApplication.Create(args);
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException ex)
{
    await Console.Error.WriteLineAsync("Invalid operator configuration:");
    foreach (var failure in ex.Failures)
    {
        await Console.Error.WriteLineAsync("  " + failure);
    }

    return 2;
}
catch (InvalidOperationException ex) when (ex.Message.StartsWith("No Kubernetes API", StringComparison.Ordinal) || ex.Message.StartsWith("kubeconfig", StringComparison.Ordinal))
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
