namespace WebApi.Mail;

/// <summary>
/// The part of an e-mail address after its last <c>@</c>: what the logs name (which provider refuses or is slow;
/// the whole address is personal data a log keeps too long) and what a sign-in restriction compares.
/// </summary>
internal static class MailDomain
{
    public static string Of(string address) => address[(address.LastIndexOf('@') + 1)..];
}
