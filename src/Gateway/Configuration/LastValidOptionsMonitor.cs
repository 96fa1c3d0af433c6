using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>
/// Keeps the gateway on its last valid settings when <c>config/gateway.json</c> is saved with a mistake.
/// The framework's monitor re-validates on every read after a bad reload and throws each time, which would
/// turn a typo into failed requests; start-up still fails on invalid settings, because until one valid value
/// has been seen there is nothing to fall back on. Listeners are only told about valid settings.
/// </summary>
internal sealed partial class LastValidOptionsMonitor : IOptionsMonitor<GatewayOptions>, IDisposable
{
    private readonly IOptionsMonitor<GatewayOptions> _inner;
    private readonly ILogger<LastValidOptionsMonitor> _logger;
    private volatile GatewayOptions? _lastValid;
    private volatile string? _lastReportedFailure;

    public LastValidOptionsMonitor(IOptionsMonitor<GatewayOptions> inner, ILogger<LastValidOptionsMonitor> logger)
    {
        _inner = inner;
        _logger = logger;
    }

    public GatewayOptions CurrentValue => Get(Options.DefaultName);

    public GatewayOptions Get(string? name)
    {
        try
        {
            var value = _inner.Get(name);
            if (!ReferenceEquals(value, _lastValid))
            {
                _lastValid = value;
                _lastReportedFailure = null;
            }

            return value;
        }
        catch (OptionsValidationException ex) when (_lastValid is { } lastValid)
        {
            if (_lastReportedFailure != ex.Message)
            {
                _lastReportedFailure = ex.Message;
                LogRejectedReload(ex.Message);
            }

            return lastValid;
        }
    }

    public IDisposable? OnChange(Action<GatewayOptions, string?> listener) => _inner.OnChange(listener);

    public void Dispose() => (_inner as IDisposable)?.Dispose();

    [LoggerMessage(Level = LogLevel.Error, Message = "Edited gateway settings rejected; still using the previous ones: {Failures}")]
    private partial void LogRejectedReload(string failures);
}
