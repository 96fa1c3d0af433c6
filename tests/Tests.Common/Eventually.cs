using System.Diagnostics;

namespace Tests.Common;

/// <summary>Waits for what happens in the background (a notice, a flush, a process ending), failing with what it waited for.</summary>
public static class Eventually
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static Task TrueAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(condition, () => what, timeout);

    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), () => what, timeout);

    /// <summary>As the others, failing with what <paramref name="describe"/> says of the state at the time.</summary>
    public static Task TrueAsync(Func<bool> condition, Func<string> describe, TimeSpan? timeout = null) =>
        TrueAsync(() => Task.FromResult(condition()), describe, timeout);

    private static async Task TrueAsync(Func<Task<bool>> condition, Func<string> describe, TimeSpan? timeout)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > limit)
            {
                Assert.Fail($"not within {limit.TotalSeconds:0.#} s: {describe()}");
            }

            await Task.Delay(25);
        }
    }
}
