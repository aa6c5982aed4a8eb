using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Inference.Engine.Store;

/// <summary>SHA-256 digest strings: <c>sha256:&lt;hex&gt;</c> in manifests, <c>sha256-&lt;hex&gt;</c> as blob file names.</summary>
public static class Digests
{
    /// <summary>Extracts the 64 lowercase hex digits from <c>sha256:hex</c> or <c>sha256-hex</c>.</summary>
    public static bool TryGetHex(string? digest, [NotNullWhen(true)] out string? hex)
    {
        hex = null;
        if (digest is null || digest.Length != 7 + 64 || !digest.StartsWith("sha256", StringComparison.Ordinal)
            || (digest[6] != ':' && digest[6] != '-'))
        {
            return false;
        }
        var candidate = digest[7..];
        foreach (char c in candidate)
        {
            if (!char.IsAsciiDigit(c) && c is not (>= 'a' and <= 'f'))
            {
                return false;
            }
        }
        hex = candidate;
        return true;
    }

    /// <summary>Like <see cref="TryGetHex"/> but throws <see cref="ArgumentException"/> for an invalid digest.</summary>
    public static string GetHex(string digest, [CallerArgumentExpression(nameof(digest))] string? paramName = null) =>
        TryGetHex(digest, out var hex)
            ? hex
            : throw new ArgumentException($"invalid digest '{digest}': expected sha256:<64 lowercase hex digits>", paramName);

    /// <summary>The manifest form, <c>sha256:&lt;hex&gt;</c>.</summary>
    public static string FromHex(string hex) => "sha256:" + hex;
}
