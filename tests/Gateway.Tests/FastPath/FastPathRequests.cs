using System.Diagnostics.Metrics;

namespace Gateway.Tests.FastPath;

/// <summary>Counts the requests one gateway's fast path forwarded (its <c>gateway.fast_path.requests</c> counter).</summary>
internal sealed class FastPathRequests : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _count;

    public FastPathRequests(IServiceProvider gateway)
    {
        var scope = gateway.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "gateway.fast_path.requests" && instrument.Meter.Scope == scope)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _count, value));
        _listener.Start();
    }

    public long Count => Interlocked.Read(ref _count);

    public void Dispose() => _listener.Dispose();
}
