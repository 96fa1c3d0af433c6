namespace WebApi.Mail;

/// <summary>
/// A mail waiting in the outbox table: written in the same transaction as the code it carries, so a code is
/// never issued without its mail nor a mail sent for a code that was rolled back; deleted once the SMTP
/// server accepted it, or once what it carries has expired.
/// </summary>
public sealed class OutgoingMail
{
    public long Id { get; set; }

    public required string To { get; set; }

    public required string Subject { get; set; }

    public required string TextBody { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When a sender may take it next; a sender that takes it moves this past its own attempt (a lease).</summary>
    public DateTimeOffset NextAttemptAt { get; set; }

    /// <summary>After this the mail is useless (its code expired) and is dropped unsent.</summary>
    public DateTimeOffset DiscardAfter { get; set; }

    /// <summary>
    /// Mails with the same key replace each other: posting one drops those not sent yet (a new code makes the
    /// one before useless, and a user who got both would type the wrong one). Null: replaces nothing.
    /// </summary>
    public string? ReplaceKey { get; set; }

    public int Attempts { get; set; }

    public string? LastError { get; set; }
}
