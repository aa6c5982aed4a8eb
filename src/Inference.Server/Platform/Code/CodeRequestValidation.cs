namespace Inference.Server.Platform.Code;

/// <summary>A code completion request that passed validation, split at the cursor.</summary>
public sealed record CodeCompletionJob(string Before, string After, string Language, string? Model, int N, int MaxTokens, uint? Seed);

/// <summary>Checks a /ai/code/complete body; every refusal names the field and the allowed range.</summary>
public static class CodeRequestValidation
{
    public const int DefaultN = 3, MaxN = 8;
    public const int DefaultMaxTokens = 64, MaxTokensLimit = 512;
    public const int MaxLanguageLength = 64;
    /// <summary>Longer files are refused before tokenizing; what fits the context is chosen later.</summary>
    public const int MaxCodeLength = 1_000_000;
    /// <summary>llama.cpp's "random seed" marker; seeds stay below it.</summary>
    public const long MaxSeed = 0xFFFFFFFEL;

    public static (CodeCompletionJob? Job, string? Error) Validate(CodeCompleteRequest req)
    {
        if (req.Code is not { } code) return (null, "code is required (it may be an empty string)");
        if (code.Length > MaxCodeLength) return (null, $"code must be at most {MaxCodeLength} characters");
        if (string.IsNullOrWhiteSpace(req.Language)) return (null, "language is required");
        if (req.Language.Length > MaxLanguageLength) return (null, $"language must be at most {MaxLanguageLength} characters");
        if (req.CursorPosition is not { } cursor) return (null, "cursor_position is required");
        if (cursor < 0 || cursor > code.Length)
            return (null, $"cursor_position must be between 0 and {code.Length} (the length of code in UTF-16 code units)");
        int at = (int)cursor;
        // An offset between the two halves of a surrogate pair is no position in the text.
        if (at > 0 && at < code.Length && char.IsHighSurrogate(code[at - 1]) && char.IsLowSurrogate(code[at]))
            return (null, "cursor_position splits a surrogate pair (a character outside the Basic Multilingual Plane)");
        if (req.N is < 1 or > MaxN) return (null, $"n must be between 1 and {MaxN}");
        if (req.MaxTokens is < 1 or > MaxTokensLimit) return (null, $"max_tokens must be between 1 and {MaxTokensLimit}");
        if (req.Seed is < 0 or > MaxSeed) return (null, $"seed must be between 0 and {MaxSeed}");

        return (new CodeCompletionJob(code[..at], code[at..], req.Language.Trim(), req.Model, req.N ?? DefaultN,
            req.MaxTokens ?? DefaultMaxTokens, req.Seed is { } s ? (uint)s : null), null);
    }

    /// <summary>The i-th completion's seed: consecutive from the first, never the random marker.</summary>
    public static uint SeedOf(uint first, int i) => (uint)((first + (long)i) % (MaxSeed + 1));
}
