using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebApi.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class StopCause : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "StopCause",
                table: "Workspaces",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "StoppedAt",
                table: "Workspaces",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "StopCause",
                table: "Workspaces");

            migrationBuilder.DropColumn(
                name: "StoppedAt",
                table: "Workspaces");
        }
    }
}
