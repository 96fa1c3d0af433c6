using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using WebApi.Configuration;
using WebApi.Data;

namespace WebApi.Catalog;

/// <param name="Applies">False where the operator cannot give the template's image (one machine: its own tools).</param>
public sealed record TemplateView(string Key, string Name, string Image, string Description, string[] Tags, bool Applies);

/// <param name="Applies">False where the operator does not enforce sizes (one machine).</param>
public sealed record SpecView(string Key, string DisplayName, string Cpu, string Memory, string Storage, bool Applies);

public static class CatalogEndpoints
{
    public static IEndpointRouteBuilder MapCatalog(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Catalog");
        api.MapGet("/templates", async (WebApiDb db, IOptions<WebApiOptions> options) => TypedResults.Ok(
            (await db.Templates.OrderBy(t => t.Name).ToListAsync())
                .Select(t => new TemplateView(t.Key, t.Name, t.Image, t.Description, t.Tags.Split(',', StringSplitOptions.RemoveEmptyEntries), !options.Value.WorkspacesOnOneMachine))
                .ToArray()));
        api.MapGet("/specs", async Task<Ok<SpecView[]>> (WebApiDb db, IOptions<WebApiOptions> options) =>
        {
            var applies = !options.Value.WorkspacesOnOneMachine;
            return TypedResults.Ok(await db.Specs.OrderBy(s => s.Id).Select(s => new SpecView(s.Key, s.DisplayName, s.Cpu, s.Memory, s.Storage, applies)).ToArrayAsync());
        });
        return app;
    }
}
