using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Catalog;
using WebApi.Configuration;

namespace WebApi.Data;

/// <summary>
/// Before the first request: applies the provider's migrations (never EnsureCreated: the schema evolves
/// with data in it) and seeds the catalog. A database that cannot be reached or migrated stops the start.
/// </summary>
internal sealed partial class DatabasePreparation(IServiceScopeFactory scopes, CatalogSeeder seeder, IOptions<WebApiOptions> options, ILogger<DatabasePreparation> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<WebApiDb>();
        if (db is SqliteWebApiDb)
        {
            var file = new SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
            if (file.Length > 0 && file != ":memory:")
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(file))!);
            }
        }

        await db.Database.MigrateAsync(cancellationToken);
        if (db is SqliteWebApiDb)
        {
            // Readers do not wait for a writer, and a writer waits (busy timeout) instead of failing.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        await seeder.SeedAsync(db);
        await ImportFileKeysAsync(db, cancellationToken);
    }

    /// <summary>
    /// The session keys an earlier version kept in the data folder's <c>keys/</c>, moved into the database once
    /// (while it holds none), so the sessions they protect stay signed in.
    /// </summary>
    private async Task ImportFileKeysAsync(WebApiDb db, CancellationToken cancellationToken)
    {
        var folder = new DirectoryInfo(Path.Combine(options.Value.DataDirectory, "keys"));
        if (!folder.Exists || await db.DataProtectionKeys.AnyAsync(cancellationToken))
        {
            return;
        }

        var files = folder.GetFiles("key-*.xml");
        foreach (var file in files)
        {
            db.DataProtectionKeys.Add(new DataProtectionKey
            {
                FriendlyName = Path.GetFileNameWithoutExtension(file.Name),
                Xml = await File.ReadAllTextAsync(file.FullName, cancellationToken),
            });
        }

        await db.SaveChangesAsync(cancellationToken);
        if (files.Length > 0)
        {
            LogKeysImported(files.Length, folder.FullName);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Moved {Count} session keys from {Folder} into the database; the folder is no longer read and can be removed")]
    private partial void LogKeysImported(int count, string folder);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
