using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Infrastructure;

/// <summary>A fixed options monitor for unit tests of types that read <see cref="GatewayOptions"/>.</summary>
internal sealed class TestOptions(GatewayOptions value) : IOptionsMonitor<GatewayOptions>
{
    public GatewayOptions CurrentValue => value;

    public GatewayOptions Get(string? name) => value;

    public IDisposable? OnChange(Action<GatewayOptions, string?> listener) => null;
}

/// <summary>A clock the test moves by hand.</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private long _timestamp = 1_000_000;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Interlocked.Read(ref _timestamp);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _timestamp, by.Ticks);
}
