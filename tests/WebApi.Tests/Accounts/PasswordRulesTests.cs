using WebApi.Accounts;

namespace WebApi.Tests.Accounts;

/// <summary>New passwords as NIST SP 800-63B §3.1.1.2 asks: long enough, not common, not the user name, no composition rules.</summary>
public sealed class PasswordRulesTests
{
    private static readonly PasswordRules Rules = PasswordRules.Load();

    [Theory]
    [InlineData("password", "common")]
    [InlineData("PassWord", "common")]
    [InlineData("12345678", "common")]
    [InlineData("iloveyou", "common")]
    [InlineData("qwertyuiop", "common")]
    [InlineData("  password  ", "common")]
    [InlineData("        ", "at least 8")]
    [InlineData("  abc  de  ", "at least 8")]
    [InlineData("", "at least 8")]
    [InlineData(null, "at least 8")]
    [InlineData("alice-in-chains", "user name")]
    public void A_short_common_or_guessable_password_is_refused_with_the_reason_in_words(string? password, string reason) =>
        Assert.Contains(reason, Rules.Refusal(password, userName: "Alice-in-Chains"), StringComparison.Ordinal);

    [Theory]
    [InlineData("correct horse battery")]
    [InlineData("tr0ub4dor&3x")]
    [InlineData("alllowercaseletters")]
    [InlineData("ÄÖÜäöüßé")] // eight characters as people count them, whatever their bytes
    [InlineData("12 3 4 5 6 7 8 9")]
    public void A_long_enough_uncommon_password_is_taken_whatever_it_is_made_of(string password) =>
        Assert.Null(Rules.Refusal(password, userName: "alice"));

    [Fact]
    public void The_list_shipped_with_the_program_is_loaded_whole_and_a_very_long_password_is_bounded()
    {
        Assert.InRange(Rules.CommonCount, 17_000, 18_000);
        Assert.Null(Rules.Refusal(new string('x', PasswordRules.MaximumLength - 1) + "y", "alice"));
        Assert.Contains("at most", Rules.Refusal(new string('x', PasswordRules.MaximumLength + 1), "alice"), StringComparison.Ordinal);
    }
}
