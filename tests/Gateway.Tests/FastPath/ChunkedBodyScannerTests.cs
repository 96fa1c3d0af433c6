using System.Buffers;
using System.Text;
using Gateway.FastPath;

namespace Gateway.Tests.FastPath;

/// <summary>Where a relayed chunked body ends (RFC 9112 §7.1), whatever the reads that bring it.</summary>
public sealed class ChunkedBodyScannerTests
{
    public static TheoryData<string> WellFormed =>
    [
        "0\r\n\r\n",
        "5\r\nhello\r\n0\r\n\r\n",
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        "A\r\n0123456789\r\n0\r\n\r\n",
        "a;name=value\r\n0123456789\r\n0;last\r\n\r\n",
        "5 ; q=\"x y\"\r\nhello\r\n000\r\n\r\n",
        "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum: 42\r\n\r\n",
        "1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n",
    ];

    [Theory]
    [MemberData(nameof(WellFormed))]
    public void The_end_is_found_at_the_same_byte_however_the_body_is_split(string body)
    {
        var bytes = Encoding.ASCII.GetBytes(body + "HTTP/1.1 200 OK\r\n");
        foreach (var split in new[] { 1, 2, 3, 7, bytes.Length })
        {
            var scanner = default(ChunkedBodyScanner);
            var offset = 0;
            var status = OperationStatus.NeedMoreData;
            while (status == OperationStatus.NeedMoreData && offset < bytes.Length)
            {
                var piece = bytes.AsSpan(offset, Math.Min(split, bytes.Length - offset));
                status = scanner.Scan(piece, out var consumed);
                offset += consumed;
            }

            Assert.Equal(OperationStatus.Done, status);
            Assert.Equal(body.Length, offset);
            Assert.True(scanner.IsDone);
        }
    }

    [Fact]
    public void A_large_chunk_passes_in_one_step_and_the_scanner_waits_for_the_rest()
    {
        var scanner = default(ChunkedBodyScanner);
        Assert.Equal(OperationStatus.NeedMoreData, scanner.Scan("100000\r\n"u8, out _));
        Assert.Equal(OperationStatus.NeedMoreData, scanner.Scan(new byte[0x80000], out var half));
        Assert.Equal(0x80000, half);
        Assert.Equal(OperationStatus.NeedMoreData, scanner.Scan(new byte[0x80000], out _));
        Assert.Equal(OperationStatus.Done, scanner.Scan("\r\n0\r\n\r\n"u8, out var end));
        Assert.Equal(7, end);
    }

    [Theory]
    [InlineData("x\r\n", "a size that is not hex")]
    [InlineData("\r\n", "no size")]
    [InlineData(";ext\r\n", "an extension without a size")]
    [InlineData("-5\r\nhello\r\n", "a signed size")]
    [InlineData("0x5\r\nhello\r\n", "a 0x prefix")]
    [InlineData("10000000000000000\r\n", "seventeen digits")]
    [InlineData("FFFFFFFFFFFFFFFF\r\n", "a size beyond a long")]
    [InlineData("5\nhello\r\n", "a bare LF after the size")]
    [InlineData("5\r\nhelloX\r\n", "more data than the size")]
    [InlineData("5\r\nhello\n0\r\n\r\n", "a bare LF after the data")]
    [InlineData("5;a\u0001b\r\nhello\r\n", "a control in an extension")]
    [InlineData("0\r\nX: a\u0000\r\n\r\n", "a NUL in a trailer")]
    [InlineData("0\r\nX: a\n\r\n", "a bare LF in the trailers")]
    [InlineData("0\r\n\rX", "no LF at the end")]
    public void A_malformed_body_is_invalid(string body, string why)
    {
        var scanner = default(ChunkedBodyScanner);
        Assert.True(OperationStatus.InvalidData == scanner.Scan(Encoding.Latin1.GetBytes(body), out _), why);
    }

    [Fact]
    public void An_endless_extension_or_trailer_section_is_invalid()
    {
        var extension = default(ChunkedBodyScanner);
        Assert.Equal(OperationStatus.InvalidData, extension.Scan(Encoding.ASCII.GetBytes("5;" + new string('e', 5000)), out _));

        var trailers = default(ChunkedBodyScanner);
        var many = string.Concat(Enumerable.Repeat("X-T: " + new string('t', 1000) + "\r\n", 20));
        Assert.Equal(OperationStatus.InvalidData, trailers.Scan(Encoding.ASCII.GetBytes("0\r\n" + many), out _));
    }
}
