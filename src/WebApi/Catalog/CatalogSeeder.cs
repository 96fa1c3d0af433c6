using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Catalog;

/// <summary>
/// Makes the database's templates and specs what config/catalog.json says, by key: new keys are added,
/// existing ones updated. Nothing is removed (workspaces refer to them); a key dropped from the file
/// stays for the workspaces that use it.
/// </summary>
internal sealed partial class CatalogSeeder(IOptions<WebApiOptions> options, ILogger<CatalogSeeder> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task SeedAsync(WebApiDb db)
    {
        var path = Path.IsPathRooted(options.Value.CatalogFile)
            ? options.Value.CatalogFile
            : Path.Combine(AppContext.BaseDirectory, options.Value.CatalogFile);
        var file = JsonSerializer.Deserialize<CatalogFile>(await File.ReadAllTextAsync(path), Json)
            ?? throw new InvalidDataException($"{path} is empty");

        var templates = await db.Templates.ToDictionaryAsync(t => t.Key);
        foreach (var entry in file.Templates)
        {
            var template = templates.GetValueOrDefault(entry.Key) ?? db.Templates.Add(new Template { Key = entry.Key, Name = entry.Name, Image = entry.Image }).Entity;
            template.Name = entry.Name;
            template.Image = entry.Image;
            template.Description = entry.Description ?? "";
            template.Tags = string.Join(',', entry.Tags ?? []);
        }

        var specs = await db.Specs.ToDictionaryAsync(s => s.Key);
        foreach (var entry in file.Specs)
        {
            var spec = specs.GetValueOrDefault(entry.Key) ?? db.Specs.Add(new Spec { Key = entry.Key, DisplayName = entry.DisplayName, Cpu = entry.Cpu, Memory = entry.Memory, Storage = entry.Storage }).Entity;
            spec.DisplayName = entry.DisplayName;
            spec.Cpu = entry.Cpu;
            spec.Memory = entry.Memory;
            spec.Storage = entry.Storage;
        }

        await db.SaveChangesAsync();
        LogSeeded(file.Templates.Count, file.Specs.Count, path);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Catalog: {Templates} templates, {Specs} specs from {Path}")]
    private partial void LogSeeded(int templates, int specs, string path);

    private sealed record CatalogFile(List<TemplateEntry> Templates, List<SpecEntry> Specs);

    private sealed record TemplateEntry(string Key, string Name, string Image, string? Description, List<string>? Tags);

    private sealed record SpecEntry(string Key, string DisplayName, string Cpu, string Memory, string Storage);
}
