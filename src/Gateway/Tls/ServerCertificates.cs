using System.Net.Security;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Tls;

/// <summary>
/// The certificates the HTTPS listener serves, re-read from their files while running. cert-manager and a
/// mounted Kubernetes Secret replace the files in place (a symbolic link swapped under the mount), which file
/// watchers miss; so the files are read every <see cref="TlsOptions.ReloadInterval"/> and compared with what
/// is served. A pair that does not load (a key written before its certificate, say) leaves the served set as
/// it is, and is tried again at the next reading.
/// </summary>
internal sealed partial class ServerCertificates : IDisposable
{
    private static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(14);

    private readonly CertificateFileOptions[] _files;
    private readonly TlsMinimumVersion _minimum;
    private readonly ILogger<ServerCertificates> _logger;
    private readonly TimeProvider _time;
    private readonly ITimer? _reload;
    private volatile ServerCertificateSet? _current;
    private string? _lastFailure;
    private int _reloading;

    public ServerCertificates(IOptions<GatewayOptions> options, TimeProvider time, ILogger<ServerCertificates> logger)
    {
        var tls = options.Value.Tls;
        _files = [.. tls.Certificates];
        _minimum = tls.MinimumVersion;
        _logger = logger;
        _time = time;
        if (_files.Length == 0)
        {
            return;
        }

        var loaded = new LoadedCertificate[_files.Length];
        for (var i = 0; i < _files.Length; i++)
        {
            loaded[i] = LoadedCertificate.TryLoad(_files[i], out var failure)
                ?? throw new InvalidOperationException($"Gateway:Tls:Certificates:{i}: {failure}");
            LogServing(loaded[i], i);
        }

        _current = new ServerCertificateSet(loaded, _minimum);
        _reload = time.CreateTimer(_ => Reload(), null, tls.ReloadInterval, tls.ReloadInterval);
    }

    /// <summary>The set served now; null when no certificate is configured.</summary>
    public ServerCertificateSet? Current => _current;

    /// <summary>The handshake options for a client that named <paramref name="serverName"/>.</summary>
    public SslServerAuthenticationOptions Select(string? serverName) => _current!.Select(serverName);

    public void Dispose() => _reload?.Dispose();

    /// <summary>Reads the files again; swaps the served set when any changed and all load. Internal for tests.</summary>
    internal void Reload()
    {
        // A slow disk must not stack readings on top of each other.
        if (Interlocked.Exchange(ref _reloading, 1) == 1)
        {
            return;
        }

        try
        {
            var served = _current!.Certificates;
            var next = new LoadedCertificate[_files.Length];
            var changed = false;
            for (var i = 0; i < _files.Length; i++)
            {
                // Read once: compared with what is served, and loaded from these very bytes when they differ.
                // A failed read is mid-swap or gone; it is reported like a failed load and tried again.
                var read = LoadedCertificate.TryRead(_files[i], out var certificatePem, out var keyPem, out var failure);
                if (read && served[i].CameFrom(certificatePem, keyPem))
                {
                    next[i] = served[i];
                    continue;
                }

                if ((read ? LoadedCertificate.TryParse(_files[i], certificatePem, keyPem, out failure) : null) is not { } loaded)
                {
                    var reason = $"Gateway:Tls:Certificates:{i}: {failure}";
                    if (reason != _lastFailure)
                    {
                        _lastFailure = reason;
                        LogReloadFailed(reason);
                    }

                    return;
                }

                next[i] = loaded;
                changed = true;
            }

            _lastFailure = null;
            if (changed)
            {
                _current = new ServerCertificateSet(next, _minimum);
                for (var i = 0; i < next.Length; i++)
                {
                    if (!ReferenceEquals(next[i], served[i]))
                    {
                        LogServing(next[i], i);
                    }
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogReloadFailed(ex.Message);
        }
        finally
        {
            Volatile.Write(ref _reloading, 0);
        }
    }

    private void LogServing(LoadedCertificate certificate, int index)
    {
        var leaf = certificate.Leaf;
        var names = certificate.DnsNames.Length == 0 ? "no DNS names (served only as the default)" : string.Join(", ", certificate.DnsNames);
        var notAfter = leaf.NotAfter.ToUniversalTime();
        var subject = leaf.Subject;
        var left = notAfter - _time.GetUtcNow().UtcDateTime;
        if (left <= TimeSpan.Zero)
        {
            LogExpired(index, subject, notAfter, names);
        }
        else if (left < ExpiryWarning)
        {
            LogExpiresSoon(index, subject, notAfter, names);
        }
        else
        {
            LogLoaded(index, subject, notAfter, names);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS certificate {Index} served: {Subject}, valid until {NotAfter:u}, for {Names}")]
    private partial void LogLoaded(int index, string subject, DateTime notAfter, string names);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS certificate {Index} served expires soon: {Subject}, valid until {NotAfter:u}, for {Names}; renew it (the file is re-read while running)")]
    private partial void LogExpiresSoon(int index, string subject, DateTime notAfter, string names);

    [LoggerMessage(Level = LogLevel.Error, Message = "TLS certificate {Index} served has expired: {Subject}, valid until {NotAfter:u}, for {Names}; browsers refuse it until it is renewed (the file is re-read while running)")]
    private partial void LogExpired(int index, string subject, DateTime notAfter, string names);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS certificates not reloaded, the ones served stay: {Reason}")]
    private partial void LogReloadFailed(string reason);
}
