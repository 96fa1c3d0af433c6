using Operator.Drivers.Local;

namespace Tests.Common;

/// <summary>What a test may ask of the machine's processes, read as the operator reads them.</summary>
public static class Processes
{
    /// <summary><paramref name="rootPid"/> and every process below it (the local driver's own walk of /proc).</summary>
    public static IReadOnlyList<int> Below(int rootPid) => ProcessTree.Of(rootPid);
}
