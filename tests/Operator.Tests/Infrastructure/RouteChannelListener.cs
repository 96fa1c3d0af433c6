using System.Collections.Concurrent;
using CSRedis;

namespace WorkspaceOperator.Tests.Infrastructure;

/// <summary>Records every message on the gateway's invalidation channel, as a gateway would receive it.</summary>
public sealed class RouteChannelListener : IDisposable
{
    private readonly CSRedisClient _client;
    private readonly CSRedisClient.SubscribeObject _subscription;

    public RouteChannelListener(RedisServer redis, string channel = "routes:changed")
    {
        _client = new CSRedisClient($"{redis.Configuration},preheat=false,poolsize=2");
        _subscription = _client.Subscribe((channel, message => Messages.Enqueue(message.Body)));
    }

    public ConcurrentQueue<string> Messages { get; } = new();

    public void Dispose()
    {
        _subscription.Dispose();
        _client.Dispose();
    }
}
