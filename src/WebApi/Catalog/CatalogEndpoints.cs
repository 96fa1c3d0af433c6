using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using WebApi.Data;

namespace WebApi.Catalog;

public sealed record TemplateView(string Key, string Name, string Image, string Description, string[] Tags);

public sealed record SpecView(string Key, string DisplayName, string Cpu, string Memory, string Storage);

public static class CatalogEndpoints
{
    public static IEndpointRouteBuilder MapCatalog(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Catalog");
        api.MapGet("/templates", async (WebApiDb db) => TypedResults.Ok(
            (await db.Templates.OrderBy(t => t.Name).ToListAsync())
                .Select(t => new TemplateView(t.Key, t.Name, t.Image, t.Description, t.Tags.Split(',', StringSplitOptions.RemoveEmptyEntries)))
                .ToArray()));
        api.MapGet("/specs", async Task<Ok<SpecView[]>> (WebApiDb db) => TypedResults.Ok(
            await db.Specs.OrderBy(s => s.Id).Select(s => new SpecView(s.Key, s.DisplayName, s.Cpu, s.Memory, s.Storage)).ToArrayAsync()));
        return app;
    }
}
