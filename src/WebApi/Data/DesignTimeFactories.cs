using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace WebApi.Data;

// Used only by `dotnet ef migrations add` (docs/web-api.md): one migration set per provider, generated from the
// same model. No database is contacted.
internal sealed class SqliteDesignFactory : IDesignTimeDbContextFactory<SqliteWebApiDb>
{
    public SqliteWebApiDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteWebApiDb>().UseSqlite("Data Source=design.db").Options);
}

internal sealed class PostgresDesignFactory : IDesignTimeDbContextFactory<PostgresWebApiDb>
{
    public PostgresWebApiDb CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresWebApiDb>().UseNpgsql("Host=localhost;Database=design").Options);
}
