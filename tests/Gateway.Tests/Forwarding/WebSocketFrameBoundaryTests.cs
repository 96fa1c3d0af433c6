using Gateway.Forwarding;

namespace Gateway.Tests.Forwarding;

public sealed class WebSocketFrameBoundaryTests
{
    public static TheoryData<int, bool> Frames => new()
    {
        { 0, false }, { 5, false }, { 125, false }, { 126, false }, { 1000, true }, { 65535, false }, { 65536, false }, { 70000, true },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public void A_boundary_is_seen_only_between_frames_however_the_bytes_are_split(int payload, bool masked)
    {
        var stream = Frame(payload, masked).Concat(Frame(3, masked)).ToArray();
        var firstEnd = stream.Length - Frame(3, masked).Length;

        foreach (var chunk in new[] { 1, 2, 3, 7, 64, stream.Length })
        {
            var boundary = default(WebSocketFrameBoundary);
            for (var offset = 0; offset < stream.Length; offset += chunk)
            {
                var end = Math.Min(offset + chunk, stream.Length);
                boundary.Advance(stream.AsSpan(offset, end - offset));
                Assert.Equal(end == firstEnd || end == stream.Length, boundary.AtBoundary);
            }
        }
    }

    private static byte[] Frame(int payload, bool masked)
    {
        var header = new List<byte> { 0x82 };
        var mask = masked ? 0x80 : 0;
        if (payload < 126)
        {
            header.Add((byte)(mask | payload));
        }
        else if (payload <= ushort.MaxValue)
        {
            header.Add((byte)(mask | 126));
            header.Add((byte)(payload >> 8));
            header.Add((byte)payload);
        }
        else
        {
            header.Add((byte)(mask | 127));
            for (var shift = 56; shift >= 0; shift -= 8)
            {
                header.Add((byte)((long)payload >> shift));
            }
        }

        if (masked)
        {
            header.AddRange([1, 2, 3, 4]);
        }

        return [.. header, .. new byte[payload]];
    }
}
