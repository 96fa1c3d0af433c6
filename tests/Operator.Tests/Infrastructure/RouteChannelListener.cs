using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Operator.Tests.Infrastructure;

/// <summary>Records every message on the gateway's invalidation channel, as a gateway would receive it.</summary>
public sealed class RouteChannelListener : IDisposable
{
    private readonly ConnectionMultiplexer _redis;

    public RouteChannelListener(RedisServer redis, string channel = "routes:changed")
    {
        _redis = ConnectionMultiplexer.Connect(redis.Configuration);
        _redis.GetSubscriber().Subscribe(RedisChannel.Literal(channel), (_, message) => Messages.Enqueue(message!));
    }

    public ConcurrentQueue<string> Messages { get; } = new();

    public void Dispose() => _redis.Dispose();
}
