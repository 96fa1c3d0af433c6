using System.Text.Json.Nodes;

namespace Operator.Drivers.Local;

/// <summary>Equality-based label selectors (<c>a=b,c=d</c>), the only kind the operator sends.</summary>
internal sealed class LabelSelector
{
    private static readonly LabelSelector Everything = new([]);

    private readonly (string Key, string Value)[] _terms;

    private LabelSelector((string, string)[] terms) => _terms = terms;

    public static LabelSelector Parse(string? selector)
    {
        if (string.IsNullOrWhiteSpace(selector))
        {
            return Everything;
        }

        var terms = selector.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(term => term.Split('=', 2) is [var key, var value]
                ? (key.TrimEnd('='), value.TrimStart('='))
                : throw new ObjectTableException(System.Net.HttpStatusCode.BadRequest, "BadRequest", $"unsupported label selector term '{term}'"))
            .ToArray();
        return new LabelSelector(terms);
    }

    public bool Matches(JsonObject value)
    {
        var labels = value["metadata"]?["labels"] as JsonObject;
        foreach (var (key, expected) in _terms)
        {
            if (labels?[key]?.GetValue<string>() != expected)
            {
                return false;
            }
        }

        return true;
    }
}
