using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace WebApi.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OutboxReplaceKey : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ReplaceKey",
                table: "OutgoingMails",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_OutgoingMails_ReplaceKey",
                table: "OutgoingMails",
                column: "ReplaceKey");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_OutgoingMails_ReplaceKey",
                table: "OutgoingMails");

            migrationBuilder.DropColumn(
                name: "ReplaceKey",
                table: "OutgoingMails");
        }
    }
}
