namespace WorkspaceOperator.Kubernetes;

/// <summary>
/// The bearer token for API calls. A service-account token file is re-read every minute: bound tokens
/// are rotated by the kubelet (about hourly) and an old one stops working.
/// </summary>
public sealed class KubernetesCredentials
{
    private static readonly TimeSpan FileRefresh = TimeSpan.FromMinutes(1);

    private readonly string? _token;
    private readonly string? _tokenFile;
    private readonly TimeProvider _time;
    private (string Token, long ReadAt)? _fromFile;

    private KubernetesCredentials(string? token, string? tokenFile, TimeProvider time)
    {
        _token = token;
        _tokenFile = tokenFile;
        _time = time;
    }

    public static KubernetesCredentials None { get; } = new(null, null, TimeProvider.System);

    public static KubernetesCredentials FromToken(string token) => new(token, null, TimeProvider.System);

    public static KubernetesCredentials FromFile(string path, TimeProvider? time = null) => new(null, path, time ?? TimeProvider.System);

    public async ValueTask<string?> GetTokenAsync(CancellationToken cancellationToken)
    {
        if (_tokenFile is null)
        {
            return _token;
        }

        var cached = _fromFile;
        if (cached is { } value && _time.GetElapsedTime(value.ReadAt) < FileRefresh)
        {
            return value.Token;
        }

        var token = (await File.ReadAllTextAsync(_tokenFile, cancellationToken)).Trim();
        _fromFile = (token, _time.GetTimestamp());
        return token;
    }
}
