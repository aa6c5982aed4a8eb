namespace Inference.Engine.Backend;

/// <summary>
/// The llama.cpp commit whose C API LLamaSharp 0.30.0 binds. This is the one place it is written:
/// scripts/build-llama-native.sh reads <see cref="Commit"/> from this file, and a test checks it against
/// what the bundled libggml-base reports through ggml_commit(). (LLamaSharp's own release notes still say
/// c0c7e147, the 0.28.0 commit; its README's version table and its shipped binaries say 815a2a59.)
/// </summary>
public static class LlamaCppVersion
{
    public const string Commit = "815a2a5915f22ce6a760c676389c5dfe8535c08f";

    /// <summary>
    /// True when <paramref name="reported"/> (ggml_commit(): git's short hash, "-dirty" when the tree had
    /// local changes) names <see cref="Commit"/>. A short hash shorter than 7 characters or "unknown"
    /// (a build outside git) cannot be checked and does not match.
    /// </summary>
    public static bool Matches(string? reported)
    {
        if (string.IsNullOrEmpty(reported)) return false;
        var hash = reported.EndsWith("-dirty", StringComparison.Ordinal) ? reported[..^"-dirty".Length] : reported;
        return hash.Length >= 7 && Commit.StartsWith(hash, StringComparison.OrdinalIgnoreCase);
    }
}
