using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Infrastructure;

/// <summary>
/// A minimal RESP client playing the part of the route writers (web API, operator, redis-cli): it sends
/// exactly the commands the contract names, with no client-library framing (CSRedisCore's Publish adds a
/// message id that other writers do not).
/// </summary>
public sealed class RedisTestClient : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly StreamReader _reader;

    public RedisTestClient(int port)
    {
        _tcp = new TcpClient("127.0.0.1", port) { NoDelay = true };
        _stream = _tcp.GetStream();
        _reader = new StreamReader(_stream, Encoding.UTF8);
    }

    public Task SetRouteAsync(string sid, string address) => ExecuteAsync("HSET", "hosts", sid, address);

    public Task RemoveRouteAsync(string sid) => ExecuteAsync("HDEL", "hosts", sid);

    public Task PublishAsync(string message) => ExecuteAsync("PUBLISH", "routes:changed", message);

    /// <summary>How many HGET commands the server has executed, from INFO commandstats.</summary>
    public async Task<long> HGetCallsAsync()
    {
        var info = (string?)await ExecuteAsync("INFO", "commandstats") ?? "";
        foreach (var line in info.Split('\n'))
        {
            if (line.StartsWith("cmdstat_hget:calls=", StringComparison.Ordinal))
            {
                var calls = line["cmdstat_hget:calls=".Length..];
                return long.Parse(calls[..calls.IndexOf(',', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public async Task<object?> ExecuteAsync(params string[] args)
    {
        var command = new StringBuilder();
        command.Append(CultureInfo.InvariantCulture, $"*{args.Length}\r\n");
        foreach (var arg in args)
        {
            command.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(arg)}\r\n{arg}\r\n");
        }

        await _stream.WriteAsync(Encoding.UTF8.GetBytes(command.ToString()));
        return await ReadReplyAsync();
    }

    public void Dispose()
    {
        _reader.Dispose();
        _tcp.Dispose();
    }

    private async Task<object?> ReadReplyAsync()
    {
        var line = await _reader.ReadLineAsync() ?? throw new IOException("Redis closed the connection");
        switch (line[0])
        {
            case '+':
                return line[1..];
            case '-':
                throw new InvalidOperationException("Redis error: " + line[1..]);
            case ':':
                return long.Parse(line[1..], CultureInfo.InvariantCulture);
            case '$':
                var length = int.Parse(line[1..], CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return null;
                }

                var buffer = new char[length + 2];
                var read = 0;
                while (read < buffer.Length)
                {
                    read += await _reader.ReadAsync(buffer.AsMemory(read));
                }

                return new string(buffer, 0, length);
            default:
                throw new InvalidOperationException("Unexpected Redis reply: " + line);
        }
    }
}
