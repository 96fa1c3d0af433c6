using Gateway.Errors;

namespace Gateway.FastPath;

/// <summary>
/// Left on a connection the fast path hands to Kestrel after the workspace failed a request it had taken (not
/// reached, or no answer within <c>Gateway:Forwarding:HttpActivityTimeout</c>): the answer the YARP way gives for
/// that failure, so the request is answered at once and not sent to a failing workspace a second time. Kestrel's
/// request features fall back to the connection's, so the first request it serves finds it.
/// </summary>
internal sealed class HandedOverFailure(GatewayProblem problem, string sid)
{
    private int _answered;

    public GatewayProblem Problem { get; } = problem;

    public string Sid { get; } = sid;

    /// <summary>True once: for the request that was handed over, not for the ones after it.</summary>
    public bool TryTake() => Interlocked.Exchange(ref _answered, 1) == 0;
}

/// <summary>Answers the request the fast path handed over after its workspace failed, as <see cref="HandedOverFailure"/> says.</summary>
internal sealed class HandedOverFailureMiddleware(RequestDelegate next)
{
    public Task InvokeAsync(HttpContext context) =>
        context.Features.Get<HandedOverFailure>() is { } failure && failure.TryTake()
            ? GatewayProblemWriter.WriteAsync(context, failure.Problem, failure.Sid)
            : next(context);
}
