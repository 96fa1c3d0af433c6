using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebApi.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class SharedPorts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "SharedPorts",
                columns: table => new
                {
                    WorkspaceId = table.Column<long>(type: "INTEGER", nullable: false),
                    Port = table.Column<int>(type: "INTEGER", nullable: false),
                    Sharing = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_SharedPorts", x => new { x.WorkspaceId, x.Port });
                    table.CheckConstraint("CK_SharedPorts_Port", "\"Port\" BETWEEN 1 AND 65535");
                    table.ForeignKey(
                        name: "FK_SharedPorts_Workspaces_WorkspaceId",
                        column: x => x.WorkspaceId,
                        principalTable: "Workspaces",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "SharedPorts");
        }
    }
}
