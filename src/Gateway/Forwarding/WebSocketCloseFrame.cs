using System.Buffers.Binary;
using System.Text;

namespace Gateway.Forwarding;

/// <summary>
/// A close frame the gateway itself sends to a browser (RFC 6455 §5.5.1: server to client, unmasked), so the
/// page learns why its WebSocket ended instead of seeing 1006. Built once per reason, never per tunnel.
/// </summary>
internal static class WebSocketCloseFrame
{
    /// <summary>1001 "going away", no reason: the gateway is shutting down.</summary>
    public static readonly byte[] ShuttingDown = Build(1001, "");

    /// <summary>1001 with a reason VS Code logs ("received socket close event ... reason: ...").</summary>
    public static readonly byte[] WorkspaceStopped = Build(1001, "The workspace was stopped");

    public static readonly byte[] WorkspaceMoved = Build(1001, "The workspace moved; reconnect");

    /// <summary>The workspace's side ended without a close frame: its editor exited or crashed.</summary>
    public static readonly byte[] EditorGone = Build(1001, "The workspace's editor went away");

    /// <summary>1008 policy violation: the sharing that let this connection in was withdrawn.</summary>
    public static readonly byte[] NoLongerShared = Build(1008, "This port is no longer shared with you");

    public static byte[] Build(ushort code, string reason)
    {
        var reasonLength = Encoding.UTF8.GetByteCount(reason);

        // A control frame's payload is at most 125 bytes (§5.5), so the length fits the first length byte.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(reasonLength, 123, nameof(reason));
        var frame = new byte[4 + reasonLength];
        frame[0] = 0x88;
        frame[1] = (byte)(2 + reasonLength);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(2), code);
        Encoding.UTF8.GetBytes(reason, frame.AsSpan(4));
        return frame;
    }
}
