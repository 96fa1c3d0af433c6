using System.Net;
using k8s;
using k8s.Autorest;

namespace Operator.Drivers.Kubernetes;

/// <summary>What an API server's refusal means, from the official client's exceptions.</summary>
internal static class ApiErrors
{
    public static bool IsConflict(this Exception exception) => StatusOf(exception) == HttpStatusCode.Conflict;

    public static bool IsNotFound(this Exception exception) => StatusOf(exception) == HttpStatusCode.NotFound;

    /// <summary>410: the resourceVersion a watch started from is too old (as the answer, or as an ERROR event); list again.</summary>
    public static bool IsExpired(this Exception exception) => StatusOf(exception) == HttpStatusCode.Gone;

    /// <summary>The object <paramref name="read"/> returns, or null when the API answers 404.</summary>
    public static async Task<T?> ReadOrNullAsync<T>(Func<Task<T>> read)
        where T : class
    {
        try
        {
            return await read();
        }
        catch (Exception ex) when (ex.IsNotFound())
        {
            return null;
        }
    }

    public static HttpStatusCode? StatusOf(Exception exception) => exception switch
    {
        HttpOperationException http => http.Response?.StatusCode,
        KubernetesException { Status.Code: { } code } => (HttpStatusCode)code,
        _ => null,
    };

    /// <summary>The API's own sentence for the refusal when it sent a Status, else the status code.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        HttpOperationException { Response: { } response } => $"{(int)response.StatusCode} {ReasonOf(response.Content)}",
        KubernetesException { Status: { } status } => $"{status.Code} {status.Reason}: {status.Message}",
        _ => exception.Message,
    };

    private static string ReasonOf(string? content)
    {
        try
        {
            return content is null ? "" : KubernetesJson.Deserialize<k8s.Models.V1Status>(content).Reason ?? "";
        }
        catch (System.Text.Json.JsonException)
        {
            return "";
        }
    }
}
