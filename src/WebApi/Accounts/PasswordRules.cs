using System.Collections.Frozen;
using System.Text;

namespace WebApi.Accounts;

/// <summary>
/// Which new passwords are refused, as NIST SP 800-63B §3.1.1.2 asks of a verifier: fewer than
/// <see cref="MinimumLength"/> characters once the spaces at either end are left out (a password of spaces is none),
/// more than <see cref="MaximumLength"/>, one of the common passwords shipped with the program
/// (<c>CommonPasswords.txt</c>: 17,950 of 8 characters or more, from zxcvbn-ts's list of the most common ones), or
/// the account's own user name. No composition rules (digits, symbols, cases): §3.1.1.2 says not to impose them.
/// Existing passwords are not checked again: nobody is locked out by a rule that came after their password.
/// </summary>
internal sealed class PasswordRules
{
    public const int MinimumLength = 8;

    // NIST asks for at least 64; a bound keeps one request from costing the hasher more than a login should.
    public const int MaximumLength = 256;

    private readonly FrozenSet<string> _common;

    private PasswordRules(FrozenSet<string> common) => _common = common;

    /// <summary>How many common passwords are refused.</summary>
    public int CommonCount => _common.Count;

    /// <summary>The rules with the list shipped inside the program.</summary>
    public static PasswordRules Load()
    {
        using var stream = typeof(PasswordRules).Assembly.GetManifestResourceStream("WebApi.Accounts.CommonPasswords.txt")
            ?? throw new InvalidOperationException("The list of common passwords is missing from the program.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var common = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && !line.StartsWith('#'))
            {
                common.Add(line);
            }
        }

        return new PasswordRules(common.ToFrozenSet(StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Why <paramref name="password"/> cannot be a new password of <paramref name="userName"/>, in words; null when it can.</summary>
    public string? Refusal(string? password, string? userName)
    {
        // Characters as people count them (a letter with an accent is one), after the same normalisation the
        // comparison with the list uses.
        var trimmed = (password ?? "").Trim().Normalize(NormalizationForm.FormKC);
        var length = trimmed.EnumerateRunes().Count();
        if (length < MinimumLength)
        {
            return $"at least {MinimumLength} characters, not counting spaces at either end";
        }

        if (length > MaximumLength)
        {
            return $"at most {MaximumLength} characters";
        }

        if (_common.Contains(trimmed))
        {
            return "one of the most common passwords, which are tried first: choose another";
        }

        if (userName is not null && string.Equals(trimmed, userName.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return "the same as the user name: choose another";
        }

        return null;
    }
}
