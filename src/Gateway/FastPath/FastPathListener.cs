using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Gateway.FastPath;

/// <summary>Puts <see cref="FastPathMiddleware"/> on a listener's connections, where they carry plaintext HTTP.</summary>
internal static class FastPathListener
{
    public static void Use(ListenOptions listen) => listen.Use(next =>
    {
        var fastPath = listen.ApplicationServices.GetRequiredService<FastPathMiddleware>();
        return connection => fastPath.OnConnectionAsync(connection, next);
    });
}
