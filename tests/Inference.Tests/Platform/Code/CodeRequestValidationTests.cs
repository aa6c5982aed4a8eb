using Inference.Server.Platform.Code;

namespace Inference.Tests.Platform.Code;

public sealed class CodeRequestValidationTests
{
    private static CodeCompleteRequest Valid(string code = "print(1)", long cursor = 5) =>
        new() { Code = code, Language = "python", CursorPosition = cursor };

    [Fact]
    public void Defaults_and_the_split_at_the_cursor()
    {
        var (job, error) = CodeRequestValidation.Validate(Valid());
        Assert.Null(error);
        Assert.Equal(("print", "(1)", "python", 3, 64, (uint?)null), (job!.Before, job.After, job.Language, job.N, job.MaxTokens, job.Seed));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    public void The_cursor_may_be_at_either_end(long cursor) => Assert.Null(CodeRequestValidation.Validate(Valid(cursor: cursor)).Error);

    [Fact]
    public void Empty_code_is_allowed_for_fill_in_the_middle() => Assert.Null(CodeRequestValidation.Validate(Valid("", 0)).Error);

    [Theory]
    [InlineData(1, true)]   // between 'a' and the emoji
    [InlineData(2, false)]  // between the emoji's two halves
    [InlineData(3, true)]   // after the emoji
    public void A_cursor_inside_a_surrogate_pair_is_refused(long cursor, bool ok)
    {
        var error = CodeRequestValidation.Validate(Valid("a😀b", cursor)).Error;
        Assert.Equal(ok, error is null);
    }

    [Fact]
    public void Ranges_are_enforced()
    {
        Assert.NotNull(CodeRequestValidation.Validate(Valid() with { N = 0 }).Error);
        Assert.NotNull(CodeRequestValidation.Validate(Valid() with { N = 9 }).Error);
        Assert.Null(CodeRequestValidation.Validate(Valid() with { N = 8 }).Error);
        Assert.NotNull(CodeRequestValidation.Validate(Valid() with { MaxTokens = 0 }).Error);
        Assert.Null(CodeRequestValidation.Validate(Valid() with { MaxTokens = 512 }).Error);
        Assert.NotNull(CodeRequestValidation.Validate(Valid() with { Seed = -1 }).Error);
        Assert.NotNull(CodeRequestValidation.Validate(Valid() with { Seed = 0xFFFFFFFF }).Error);
        Assert.NotNull(CodeRequestValidation.Validate(Valid() with { Language = new string('x', 65) }).Error);
        Assert.NotNull(CodeRequestValidation.Validate(Valid(cursor: 9)).Error);
    }

    [Fact]
    public void Fork_seeds_are_consecutive_and_never_the_random_marker()
    {
        Assert.Equal(7u, CodeRequestValidation.SeedOf(5, 2));
        Assert.Equal(0u, CodeRequestValidation.SeedOf(0xFFFFFFFE, 1));
    }
}
