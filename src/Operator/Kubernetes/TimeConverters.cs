using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace WorkspaceOperator.Kubernetes;

/// <summary>
/// <c>metav1.Time</c>: RFC 3339 in UTC, whole seconds. The API server parses with Go's layouts, which
/// are stricter than System.Text.Json's default output (seven fractional digits and an offset).
/// </summary>
internal sealed class KubernetesTimeConverter : JsonConverter<DateTimeOffset>
{
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString(KubernetesNames.TimeFormat, CultureInfo.InvariantCulture));
}

/// <summary><c>metav1.MicroTime</c> (Lease times): exactly six fractional digits, as Go's layout requires.</summary>
internal sealed class MicroTimeConverter : JsonConverter<DateTimeOffset?>
{
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.Null
            ? null
            : DateTimeOffset.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is { } time)
        {
            writer.WriteStringValue(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
