using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Contracts.Sharing;
using Contracts.Workspaces;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using WebApi.Configuration;

namespace WebApi.Orchestration;

/// <summary>What the operator answered: success, or its status and reason (docs/operator.md, API table).</summary>
public sealed record OperatorOutcome(bool Succeeded, HttpStatusCode Status, string Reason, string Detail)
{
    public static readonly OperatorOutcome Success = new(true, HttpStatusCode.OK, "", "");

    /// <summary>The operator could not be reached or did not answer in time.</summary>
    public static OperatorOutcome Unreachable(string detail) => new(false, HttpStatusCode.ServiceUnavailable, "operator_unreachable", detail);
}

/// <summary>The operator's HTTP API (src/Operator/Api) as the web API uses it: the old RPC service's calls.</summary>
internal sealed class OperatorClient(HttpClient http, IOptions<WebApiOptions> options)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly OperatorApiOptions _options = options.Value.Operator;

    public Task<OperatorOutcome> CreateAsync(string sid, string image, string cpu, string memory, string storage, string hardware, string owner, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"{OperatorApiPaths.Workspaces}?{OperatorApiPaths.WaitParameter}=0", new CreateWorkspaceRequest(sid, image, cpu, memory, storage, hardware, Port: null, MountPath: null, owner, Start: false), cancellationToken);

    public Task<OperatorOutcome> StartAsync(string sid, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"{OperatorApiPaths.For(OperatorApiPaths.Start, sid)}?{OperatorApiPaths.WaitParameter}={(int)_options.StartTimeout.TotalSeconds}", null, cancellationToken);

    public Task<OperatorOutcome> StopAsync(string sid, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, $"{OperatorApiPaths.For(OperatorApiPaths.Stop, sid)}?{OperatorApiPaths.WaitParameter}=60", null, cancellationToken);

    /// <summary>Replaces the sharing of the workspace's ports (those not listed are private).</summary>
    public Task<OperatorOutcome> SetPortsAsync(string sid, IEnumerable<(int Port, PortSharing Sharing)> ports, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, OperatorApiPaths.For(OperatorApiPaths.Ports, sid), new SetPortsRequest([.. ports.Select(p => new SharedPortInfo(p.Port, PortShares.Word(p.Sharing)))]), cancellationToken);

    /// <summary>Every workspace as the operator sees it now; null when it cannot say (unreachable, refused).</summary>
    public Task<WorkspaceInfo[]?> ListAsync(CancellationToken cancellationToken) =>
        GetOrNullAsync<WorkspaceInfo[]>(OperatorApiPaths.Workspaces, cancellationToken);

    /// <summary>The ports the workspace listens on now; null when the operator cannot say (unreachable, refused, unknown).</summary>
    public Task<ListeningPortsInfo?> ListeningPortsAsync(string sid, CancellationToken cancellationToken) =>
        GetOrNullAsync<ListeningPortsInfo>(OperatorApiPaths.For(OperatorApiPaths.ListeningPorts, sid), cancellationToken);

    public async Task<OperatorOutcome> DeleteAsync(string sid, CancellationToken cancellationToken)
    {
        var outcome = await SendAsync(HttpMethod.Delete, $"{OperatorApiPaths.For(OperatorApiPaths.One, sid)}?{OperatorApiPaths.WaitParameter}=60", null, cancellationToken);

        // Already gone is what we wanted.
        return outcome.Status == HttpStatusCode.NotFound ? OperatorOutcome.Success : outcome;
    }

    private async Task<T?> GetOrNullAsync<T>(string path, CancellationToken cancellationToken)
        where T : class
    {
        using var request = NewRequest(HttpMethod.Get, path, null);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken) : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return null;
        }
    }

    private HttpRequestMessage NewRequest(HttpMethod method, string path, object? body)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: Json);
        }

        if (_options.Token.Length > 0)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _options.Token);
        }

        return request;
    }

    private async Task<OperatorOutcome> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = NewRequest(method, path, body);
        try
        {
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                return OperatorOutcome.Success;
            }

            ProblemDetails? problem = null;
            try
            {
                problem = await response.Content.ReadFromJsonAsync<ProblemDetails>(Json, cancellationToken);
            }
            catch (JsonException)
            {
            }

            return new OperatorOutcome(false, response.StatusCode, problem?.Title ?? response.StatusCode.ToString(), problem?.Detail ?? "");
        }
        catch (HttpRequestException ex)
        {
            return OperatorOutcome.Unreachable($"the workspace service is unreachable ({ex.Message})");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return OperatorOutcome.Unreachable("the workspace service did not answer in time");
        }
    }
}
