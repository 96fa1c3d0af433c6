using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using WebApi.Accounts;
using WebApi.Catalog;
using WebApi.Mail;
using WebApi.Workspaces;

namespace WebApi.Data;

/// <summary>
/// The web API's database. The rules that concurrent requests could break are constraints here, not
/// only checks in code, which two requests at once would both pass: unique names per user, one active workspace per user (a filtered
/// unique index), the per-user count under its limit (a CHECK).
/// </summary>
public abstract class WebApiDb(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    /// <summary>The keys that protect session cookies: in the database, so every replica reads every session.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<User> Users => Set<User>();

    public DbSet<Template> Templates => Set<Template>();

    public DbSet<Spec> Specs => Set<Spec>();

    public DbSet<Workspace> Workspaces => Set<Workspace>();

    public DbSet<SharedPort> SharedPorts => Set<SharedPort>();

    public DbSet<AccountCode> AccountCodes => Set<AccountCode>();

    public DbSet<OutgoingMail> OutgoingMails => Set<OutgoingMail>();

    public DbSet<ExternalLogin> ExternalLogins => Set<ExternalLogin>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<User>(user =>
        {
            user.HasIndex(u => u.NormalizedUserName).IsUnique();
            user.HasIndex(u => u.NormalizedEmail).IsUnique();
            user.Property(u => u.UserName).HasMaxLength(32);
            user.Property(u => u.NormalizedUserName).HasMaxLength(32);
            user.Property(u => u.Email).HasMaxLength(254);
            user.Property(u => u.NormalizedEmail).HasMaxLength(254);
            user.ToTable(t => t.HasCheckConstraint(
                "CK_Users_WorkspaceCount",
                $"\"WorkspaceCount\" >= 0 AND \"WorkspaceCount\" <= {Workspace.MaxPerUser}"));
        });

        modelBuilder.Entity<AccountCode>(code =>
        {
            code.HasKey(c => new { c.UserId, c.Purpose });
            code.Property(c => c.Purpose).HasConversion<string>().HasMaxLength(16);
            code.Property(c => c.Hash).HasMaxLength(32);
            code.HasOne<User>().WithMany().HasForeignKey(c => c.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<ExternalLogin>(login =>
        {
            login.Property(l => l.Issuer).HasMaxLength(256);
            login.Property(l => l.Subject).HasMaxLength(256);
            login.HasIndex(l => new { l.Issuer, l.Subject }).IsUnique();
            login.HasOne<User>().WithMany().HasForeignKey(l => l.UserId).OnDelete(DeleteBehavior.Cascade);
        });

        modelBuilder.Entity<OutgoingMail>(mail =>
        {
            mail.Property(m => m.To).HasMaxLength(254);
            mail.Property(m => m.Subject).HasMaxLength(200);
            mail.Property(m => m.LastError).HasMaxLength(500);
            mail.Property(m => m.ReplaceKey).HasMaxLength(64);
            mail.HasIndex(m => m.NextAttemptAt);
            mail.HasIndex(m => m.ReplaceKey);
        });

        modelBuilder.Entity<Template>().HasIndex(t => t.Key).IsUnique();
        modelBuilder.Entity<Spec>().HasIndex(s => s.Key).IsUnique();

        modelBuilder.Entity<Workspace>(workspace =>
        {
            workspace.Property(w => w.State).HasConversion<string>().HasMaxLength(16);
            workspace.Property(w => w.StopCause).HasConversion<string>().HasMaxLength(16);
            workspace.Property(w => w.Sid).HasMaxLength(63);
            workspace.Property(w => w.Name).HasMaxLength(64);
            workspace.HasIndex(w => w.Sid).IsUnique();
            workspace.HasIndex(w => new { w.OwnerId, w.Name }).IsUnique();

            // One active workspace per user, whoever else is starting one at the same moment.
            var active = string.Join(", ", Workspace.Active.Select(s => $"'{s}'"));
            workspace.HasIndex(w => w.OwnerId)
                .IsUnique()
                .HasFilter($"\"State\" IN ({active})")
                .HasDatabaseName("IX_Workspaces_OneActivePerOwner");
            workspace.HasOne(w => w.Owner).WithMany().HasForeignKey(w => w.OwnerId).OnDelete(DeleteBehavior.Restrict);
            workspace.HasOne(w => w.Template).WithMany().HasForeignKey(w => w.TemplateId).OnDelete(DeleteBehavior.Restrict);
            workspace.HasOne(w => w.Spec).WithMany().HasForeignKey(w => w.SpecId).OnDelete(DeleteBehavior.Restrict);
        });

        modelBuilder.Entity<SharedPort>(shared =>
        {
            shared.HasKey(s => new { s.WorkspaceId, s.Port });
            shared.Property(s => s.Sharing).HasConversion<string>().HasMaxLength(16);
            shared.HasOne<Workspace>().WithMany(w => w.SharedPorts).HasForeignKey(s => s.WorkspaceId).OnDelete(DeleteBehavior.Cascade);
            shared.ToTable(t => t.HasCheckConstraint("CK_SharedPorts_Port", "\"Port\" BETWEEN 1 AND 65535"));
        });
    }
}

/// <summary>SQLite (the default: a file under the data folder, nothing to install).</summary>
public sealed class SqliteWebApiDb(DbContextOptions<SqliteWebApiDb> options) : WebApiDb(options)
{
    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);

        // SQLite has no DateTimeOffset type that orders correctly as text; store UTC ticks.
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(t => t.GetProperties())
                     .Where(p => p.ClrType == typeof(DateTimeOffset) || p.ClrType == typeof(DateTimeOffset?)))
        {
            property.SetValueConverter(new Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter());
        }
    }
}

/// <summary>PostgreSQL, chosen by setting <c>WebApi:Database:Provider</c> and a connection string.</summary>
public sealed class PostgresWebApiDb(DbContextOptions<PostgresWebApiDb> options) : WebApiDb(options);
