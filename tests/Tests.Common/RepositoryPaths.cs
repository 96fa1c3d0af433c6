namespace Tests.Common;

public static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string GatewayConfig => Path.Combine(Root, "config", "gateway.json");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
