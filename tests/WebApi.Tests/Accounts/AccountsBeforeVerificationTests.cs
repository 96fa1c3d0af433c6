using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using WebApi.Accounts;
using WebApi.Data;
using WebApi.Tests.Infrastructure;

namespace WebApi.Tests.Accounts;

/// <summary>
/// An account made before addresses were verified keeps everything once the web API is upgraded with verification
/// on: the migration counts it as verified, so it logs in and creates workspaces as before, and no code is mailed.
/// </summary>
public sealed class AccountsBeforeVerificationTests : IDisposable
{
    private const string LastMigrationBefore = "20261204205953_DataProtectionKeys";
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("webapi-upgrade");

    [Fact]
    public async Task An_existing_account_counts_as_verified_after_the_upgrade()
    {
        var connection = $"Data Source={Path.Combine(_data.FullName, "old.db")}";
        await using (var old = new SqliteWebApiDb(new DbContextOptionsBuilder<SqliteWebApiDb>().UseSqlite(connection).Options))
        {
            await old.GetService<IMigrator>().MigrateAsync(LastMigrationBefore);
            var hash = new PasswordHasher<User>().HashPassword(null!, "correct horse battery");
            var createdAt = (long)new Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter().ConvertToProvider(DateTimeOffset.UtcNow.AddYears(-1))!;
            await old.Database.ExecuteSqlAsync($"""
                INSERT INTO "Users" ("UserName", "NormalizedUserName", "Email", "NormalizedEmail", "PasswordHash", "WorkspaceCount", "CreatedAt")
                VALUES ('veteran', 'VETERAN', 'veteran@example.test', 'VETERAN@EXAMPLE.TEST', {hash}, 0, {createdAt})
                """);
        }

        await using var webApi = (WebApiWithMail)new WebApiWithMail().With("WebApi:Database:ConnectionString", connection);
        await webApi.InitializeAsync();
        using var client = webApi.NewClient();
        using (var login = await client.PostAsJsonAsync("/api/accounts/login", new { userName = "veteran", password = "correct horse battery" }))
        {
            Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        }

        Assert.True((await client.GetFromJsonAsync<Me>("/api/accounts/me"))!.EmailVerified);
        using (var create = await client.PostAsJsonAsync("/api/workspaces", new { name = "", template = "python", spec = "1C2G5G" }))
        {
            // Judged on its own (an empty name), not refused for the address.
            Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        }

        Assert.Null(await webApi.Smtp.AnyWithinAsync(TimeSpan.FromSeconds(1)));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Delete(recursive: true);
    }

    private sealed record Me(bool EmailVerified);
}
