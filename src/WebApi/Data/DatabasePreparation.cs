using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using WebApi.Catalog;

namespace WebApi.Data;

/// <summary>
/// Before the first request: applies the provider's migrations (never EnsureCreated: the schema evolves
/// with data in it) and seeds the catalog. A database that cannot be reached or migrated stops the start.
/// </summary>
internal sealed class DatabasePreparation(IServiceScopeFactory scopes, CatalogSeeder seeder) : IHostedService
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
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
