using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// What came back on one raw TCP connection: every status line (pipelined requests get several), the
/// bytes as text, and whether the server closed without answering. Used where HttpClient would refuse
/// to send the bytes (CRLF in headers, conflicting framing, malformed upgrades).
/// </summary>
public sealed partial record RawHttpExchange(IReadOnlyList<int> Statuses, string Text, TimeSpan Elapsed)
{
    public bool ClosedWithoutAnswer => Statuses.Count == 0;

    public bool ServedBy(string backend) => Text.Contains($"X-Backend: {backend}\r\n", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Writes <paramref name="request"/> (or lets <paramref name="write"/> write, e.g. slowly) and reads until
    /// the server closes, a 101 has arrived, or <paramref name="deadline"/> passes.
    /// </summary>
    /// <param name="from">The local address to connect from (127.0.0.2 plays a trusted load balancer); any by default.</param>
    public static async Task<RawHttpExchange> SendAsync(int port, byte[] request, TimeSpan deadline, Func<NetworkStream, CancellationToken, Task>? write = null, System.Net.IPAddress? from = null)
    {
        var clock = Stopwatch.StartNew();
        using var cancel = new CancellationTokenSource(deadline);
        using var tcp = from is null ? new TcpClient { NoDelay = true } : new TcpClient(new System.Net.IPEndPoint(from, 0)) { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port, cancel.Token);
        var stream = tcp.GetStream();
        var received = new MemoryStream();
        try
        {
            var writing = write is null ? stream.WriteAsync(request, cancel.Token).AsTask() : write(stream, cancel.Token);
            var buffer = new byte[16 * 1024];
            var reading = ReadAsync(stream, received, buffer, cancel.Token);

            // The server may answer (and close) before a slow or oversized request is fully written.
            await Task.WhenAny(reading, writing);
            await reading;
            await Task.WhenAny(writing, Task.Delay(100, CancellationToken.None));
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // Reset or deadline: what arrived so far is the answer.
        }

        var text = Encoding.Latin1.GetString(received.ToArray());
        var statuses = StatusLine().Matches(text).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        return new RawHttpExchange(statuses, text, clock.Elapsed);
    }

    private static async Task ReadAsync(NetworkStream stream, MemoryStream received, byte[] buffer, CancellationToken cancel)
    {
        int read;
        while ((read = await stream.ReadAsync(buffer, cancel)) > 0)
        {
            received.Write(buffer, 0, read);
            var text = Encoding.Latin1.GetString(received.GetBuffer(), 0, (int)received.Length);
            if (text.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) && text.Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                return;
            }
        }
    }

    [GeneratedRegex(@"(?m)^HTTP/1\.[01] (\d{3}) ")]
    private static partial Regex StatusLine();
}
