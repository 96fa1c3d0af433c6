using Contracts.Sharing;

namespace Gateway.Auth;

/// <summary>How a request was let in, which decides what a later change of the port's sharing ends.</summary>
internal enum Admission
{
    /// <summary>Not let in; the response has been written.</summary>
    Refused,

    /// <summary>The owner's credential (or access checks are off): only the route ends it.</summary>
    Owner,

    /// <summary>A signed-in user's credential for one port: ends when that port is made private.</summary>
    SignedIn,

    /// <summary>No credential that opens it, on a public port: ends when the port stops being public.</summary>
    Public,
}

internal static class AdmissionRules
{
    /// <summary>Whether a connection let in as <paramref name="admission"/> may stay now that its port is shared at <paramref name="sharing"/>.</summary>
    public static bool StillAllowed(this Admission admission, PortSharing sharing) => admission switch
    {
        Admission.Owner => true,
        Admission.SignedIn => sharing != PortSharing.Private,
        Admission.Public => sharing == PortSharing.Public,
        _ => false,
    };
}
