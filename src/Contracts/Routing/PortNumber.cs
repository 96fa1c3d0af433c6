namespace Contracts.Routing;

/// <summary>A TCP port as the programs accept it in names, claims and requests.</summary>
public static class PortNumber
{
    public static bool IsValid(int port) => port is >= 1 and <= 65535;

    /// <summary>
    /// 1..65535 in its one spelling: ASCII digits, no sign, no leading zero. Two spellings of one port would
    /// be two origins (two cookie jars) or two rows for one port. Allocation-free.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<char> digits, out int port)
    {
        port = 0;
        if (digits.Length is < 1 or > 5 || digits[0] == '0' || digits.ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        foreach (var digit in digits)
        {
            port = (port * 10) + (digit - '0');
        }

        return port <= 65535;
    }
}
