using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Health;

/// <summary>
/// The order of a stop (SIGTERM), for a gateway behind a load balancer that probes <c>/readyz</c>: at once the
/// gateway says it is not ready (<see cref="Draining"/>) while it keeps serving and accepting; after
/// <see cref="ForwardingOptions.ShutdownDelay"/>, time for the balancer to take it out of rotation, its
/// WebSockets and event streams are told to go (<see cref="Closing"/>: 1001, and the browser reconnects through
/// the balancer to another replica), and only then does Kestrel stop accepting and drain what is in flight.
/// With no delay (the default; on Kubernetes the pod's preStop pause plays that part) everything goes at once.
/// </summary>
internal sealed class GatewayShutdown : IHostedLifecycleService, IDisposable
{
    private readonly TimeSpan _delay;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _draining = new();
    private readonly CancellationTokenSource _closing = new();
    private long _drainingSince;

    public GatewayShutdown(IOptions<GatewayOptions> options, IHostApplicationLifetime lifetime, TimeProvider time)
    {
        _delay = options.Value.Forwarding.ShutdownDelay;
        _time = time;

        // SIGTERM raises ApplicationStopping before the host calls StoppingAsync below.
        lifetime.ApplicationStopping.Register(MarkDraining);
    }

    /// <summary>Cancelled when the stop begins: not ready from then on.</summary>
    public CancellationToken Draining => _draining.Token;

    /// <summary>Cancelled when long-lived connections are to be closed: after the delay.</summary>
    public CancellationToken Closing => _closing.Token;

    public bool IsDraining => _draining.IsCancellationRequested;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        MarkDraining();
        var left = _delay - _time.GetElapsedTime(Interlocked.Read(ref _drainingSince));
        if (left > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(left, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // The host's own shutdown timeout ran out first: close now.
            }
        }

        await _closing.CancelAsync();
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _draining.Dispose();
        _closing.Dispose();
    }

    private void MarkDraining()
    {
        if (Interlocked.CompareExchange(ref _drainingSince, _time.GetTimestamp(), 0) == 0)
        {
            _draining.Cancel();
        }
    }
}
