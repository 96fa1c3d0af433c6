using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace WebApi.Data;

/// <summary>Which of our constraints a failed write hit, for SQLite and PostgreSQL alike.</summary>
public enum Violation
{
    None,
    UserNameTaken,
    EmailTaken,
    WorkspaceNameTaken,
    AnotherWorkspaceActive,
    WorkspaceLimitReached,
    SidTaken,
}

public static class ConstraintViolation
{
    /// <summary>From SaveChanges (a DbUpdateException around the provider's) or ExecuteUpdate/Delete (the provider's itself).</summary>
    public static Violation Of(Exception exception) => (exception is DbUpdateException ? exception.InnerException : exception) switch
    {
        // PostgreSQL names the constraint.
        PostgresException postgres => postgres.ConstraintName switch
        {
            "IX_Users_NormalizedUserName" => Violation.UserNameTaken,
            "IX_Users_NormalizedEmail" => Violation.EmailTaken,
            "IX_Workspaces_OwnerId_Name" => Violation.WorkspaceNameTaken,
            "IX_Workspaces_OneActivePerOwner" => Violation.AnotherWorkspaceActive,
            "IX_Workspaces_Sid" => Violation.SidTaken,
            "CK_Users_WorkspaceCount" => Violation.WorkspaceLimitReached,
            _ => Violation.None,
        },

        // SQLite names the columns of a unique index and the name of a CHECK.
        SqliteException { SqliteErrorCode: 19 } sqlite => sqlite.Message switch
        {
            var m when m.Contains("Users.NormalizedUserName", StringComparison.Ordinal) => Violation.UserNameTaken,
            var m when m.Contains("Users.NormalizedEmail", StringComparison.Ordinal) => Violation.EmailTaken,
            var m when m.Contains("Workspaces.OwnerId, Workspaces.Name", StringComparison.Ordinal) => Violation.WorkspaceNameTaken,
            var m when m.Contains("Workspaces.OwnerId", StringComparison.Ordinal) => Violation.AnotherWorkspaceActive,
            var m when m.Contains("Workspaces.Sid", StringComparison.Ordinal) => Violation.SidTaken,
            var m when m.Contains("CK_Users_WorkspaceCount", StringComparison.Ordinal) => Violation.WorkspaceLimitReached,
            _ => Violation.None,
        },
        _ => Violation.None,
    };
}
