using Gateway.Transport;

namespace Gateway.Tests.Transport;

public sealed class TransportMemoryPoolTests
{
    [Fact]
    public void A_block_holds_a_whole_socket_read_of_64_KiB()
    {
        using var pool = new TransportMemoryPool();
        using var block = pool.Rent(2048);

        Assert.Equal(TransportMemoryPool.BlockSize, block.Memory.Length);
        Assert.Equal(64 * 1024, pool.MaxBufferSize);
    }

    [Fact]
    public void A_returned_block_is_reused_and_a_second_return_cannot_hand_it_to_two_renters()
    {
        using var pool = new TransportMemoryPool();
        var first = pool.Rent();
        var memory = first.Memory;
        first.Dispose();
        first.Dispose();

        var again = pool.Rent();
        var other = pool.Rent();

        Assert.True(again.Memory.Span == memory.Span, "the returned block is reused");
        Assert.False(other.Memory.Span == memory.Span, "a block returned twice was pooled twice");
    }

    [Fact]
    public void Asking_for_more_than_a_block_is_refused()
    {
        using var pool = new TransportMemoryPool();

        Assert.Throws<ArgumentOutOfRangeException>(() => pool.Rent(TransportMemoryPool.BlockSize + 1));
    }
}
