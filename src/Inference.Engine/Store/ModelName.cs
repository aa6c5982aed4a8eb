using System.Diagnostics.CodeAnalysis;

namespace Inference.Engine.Store;

/// <summary>
/// A fully qualified model name, <c>host/namespace/model:tag</c>, parsed with Ollama's rules
/// (<c>types/model/name.go</c>): <c>[host/][namespace/]model[:tag]</c> with defaults
/// <see cref="DefaultHost"/>, <see cref="DefaultNamespace"/> and <see cref="DefaultTag"/>.
/// </summary>
/// <remarks>
/// Equality and hashing ignore ASCII case in every part, as Ollama's <c>Name.EqualFold</c> does, so
/// <c>Llama3:Latest</c> and <c>llama3:latest</c> are the same model; the original spelling is kept
/// for display and for new directories. Each part is also a directory name under <c>manifests/</c>,
/// so the character rules are what keep names from escaping that directory.
/// </remarks>
public sealed record ModelName(string Host, string Namespace, string Model, string Tag)
{
    public const string DefaultHost = "registry.ollama.ai";
    public const string DefaultNamespace = "library";
    public const string DefaultTag = "latest";

    private const int MaxHostLength = 350;
    private const int MaxPartLength = 80;

    /// <summary>Parses <c>[host/][namespace/]model[:tag]</c>; throws <see cref="FormatException"/> when invalid.</summary>
    public static ModelName Parse(string text) =>
        TryParse(text, out var name, out var error) ? name : throw new FormatException(error);

    /// <summary>Parses <c>[host/][namespace/]model[:tag]</c>, filling in defaults for missing parts.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [MaybeNullWhen(false)] out ModelName name, out string error)
    {
        name = null;
        if (string.IsNullOrEmpty(text))
        {
            error = "invalid model name: the name is empty";
            return false;
        }

        // Split from the right like Ollama's ParseNameBare. A ':' after the last '/' starts the tag;
        // one before it can only be a host port.
        string rest = text;
        string? tag = null, ns = null, host = null;
        int colon = rest.LastIndexOf(':');
        if (colon > rest.LastIndexOf('/'))
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }
        string model = rest;
        int slash = rest.LastIndexOf('/');
        if (slash >= 0)
        {
            model = rest[(slash + 1)..];
            rest = rest[..slash];
            ns = rest;
            slash = rest.LastIndexOf('/');
            if (slash >= 0)
            {
                ns = rest[(slash + 1)..];
                host = rest[..slash];
                // Ollama accepts a scheme on the host ("https://example.com/ns/model") and ignores it.
                int scheme = host.IndexOf("://", StringComparison.Ordinal);
                if (scheme >= 0)
                {
                    host = host[(scheme + 3)..];
                }
            }
        }

        var candidate = new ModelName(host ?? DefaultHost, ns ?? DefaultNamespace, model, tag ?? DefaultTag);
        if (!candidate.Validate(out error))
        {
            error = $"invalid model name '{Echo.Bounded(text)}': {error}";
            return false;
        }
        name = candidate;
        return true;
    }

    /// <summary>
    /// The name stored at <paramref name="relativePath"/>, a manifest path relative to the
    /// <c>manifests</c> directory (<c>host/namespace/model/tag</c>, either separator); false when the
    /// path does not have exactly four valid parts.
    /// </summary>
    public static bool TryFromManifestPath(string relativePath, [MaybeNullWhen(false)] out ModelName name)
    {
        var parts = relativePath.Split('/', '\\');
        name = parts.Length == 4 ? new ModelName(parts[0], parts[1], parts[2], parts[3]) : null;
        if (name is null || !name.Validate(out _))
        {
            name = null;
            return false;
        }
        return true;
    }

    /// <summary>Ollama's short display form: <c>model:tag</c>, <c>namespace/model:tag</c> or the full name.</summary>
    public string DisplayShortest()
    {
        if (!Host.Equals(DefaultHost, StringComparison.OrdinalIgnoreCase))
        {
            return $"{Host}/{Namespace}/{Model}:{Tag}";
        }
        if (!Namespace.Equals(DefaultNamespace, StringComparison.OrdinalIgnoreCase))
        {
            return $"{Namespace}/{Model}:{Tag}";
        }
        return $"{Model}:{Tag}";
    }

    /// <summary><c>manifests/host/namespace/model/tag</c>, always with '/' separators.</summary>
    public string ManifestRelativePath => $"manifests/{Host}/{Namespace}/{Model}/{Tag}";

    /// <summary>The four parts, host first; each is one directory level under <c>manifests/</c>.</summary>
    public IReadOnlyList<string> Parts => [Host, Namespace, Model, Tag];

    /// <summary>The fully qualified name, <c>host/namespace/model:tag</c>.</summary>
    public override string ToString() => $"{Host}/{Namespace}/{Model}:{Tag}";

    public bool Equals(ModelName? other) =>
        other is not null
        && StringComparer.OrdinalIgnoreCase.Equals(Host, other.Host)
        && StringComparer.OrdinalIgnoreCase.Equals(Namespace, other.Namespace)
        && StringComparer.OrdinalIgnoreCase.Equals(Model, other.Model)
        && StringComparer.OrdinalIgnoreCase.Equals(Tag, other.Tag);

    public override int GetHashCode() => HashCode.Combine(
        StringComparer.OrdinalIgnoreCase.GetHashCode(Host),
        StringComparer.OrdinalIgnoreCase.GetHashCode(Namespace),
        StringComparer.OrdinalIgnoreCase.GetHashCode(Model),
        StringComparer.OrdinalIgnoreCase.GetHashCode(Tag));

    private bool Validate(out string error)
    {
        error = CheckPart("host", Host, MaxHostLength, allowDot: true, allowColon: true)
            ?? CheckPart("namespace", Namespace, MaxPartLength, allowDot: false, allowColon: false)
            ?? CheckPart("model", Model, MaxPartLength, allowDot: true, allowColon: false)
            ?? CheckPart("tag", Tag, MaxPartLength, allowDot: true, allowColon: false)
            ?? "";
        return error.Length == 0;
    }

    /// <summary>
    /// Ollama's isValidPart: 1..max characters, the first a letter, digit or '_', the rest also '-',
    /// '.' (not in namespaces) and ':' (host only, for a port). Stricter than Ollama in one way: ".."
    /// is rejected anywhere, so no part can ever read as a parent-directory reference.
    /// </summary>
    private static string? CheckPart(string kind, string value, int max, bool allowDot, bool allowColon)
    {
        if (value.Length == 0)
        {
            return $"the {kind} is empty";
        }
        if (value.Length > max)
        {
            return $"the {kind} is longer than {max} characters";
        }
        if (!IsWordChar(value[0]))
        {
            return $"the {kind} '{Echo.Bounded(value)}' must start with a letter, digit or '_'";
        }
        foreach (char c in value)
        {
            bool ok = IsWordChar(c) || c == '-' || (c == '.' && allowDot) || (c == ':' && allowColon);
            if (!ok)
            {
                return $"the {kind} '{Echo.Bounded(value)}' contains '{c}' (allowed: letters, digits, '_', '-'{(allowDot ? ", '.'" : "")}{(allowColon ? ", ':'" : "")})";
            }
        }
        if (value.Contains("..", StringComparison.Ordinal))
        {
            return $"the {kind} '{Echo.Bounded(value)}' contains '..'";
        }
        return null;
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
}
