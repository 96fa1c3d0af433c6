namespace WebApi.Catalog;

/// <summary>An image per language stack (seeded from config/catalog.json).</summary>
public sealed class Template
{
    public int Id { get; set; }

    public required string Key { get; set; }

    public required string Name { get; set; }

    public required string Image { get; set; }

    public string Description { get; set; } = "";

    /// <summary>Comma-separated, e.g. <c>go,backend</c>.</summary>
    public string Tags { get; set; } = "";
}

/// <summary>A machine size (seeded from config/catalog.json), e.g. <c>2C4G10G</c>.</summary>
public sealed class Spec
{
    public int Id { get; set; }

    public required string Key { get; set; }

    public required string DisplayName { get; set; }

    public required string Cpu { get; set; }

    public required string Memory { get; set; }

    public required string Storage { get; set; }
}
