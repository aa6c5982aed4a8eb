namespace Inference.Engine.Store;

/// <summary>Client- or registry-supplied text as it may appear in an error message: bounded, so a huge name or digest is not sent back whole.</summary>
public static class Echo
{
    /// <summary>Characters of a name, digest or other echoed value kept in a message.</summary>
    public const int MaxLength = 100;

    /// <summary>Characters kept of a whole message built from client content (a parser's error, which quotes what it read).</summary>
    public const int MaxMessageLength = 300;

    /// <summary><paramref name="text"/>, cut to <paramref name="max"/> characters with "..." when longer.</summary>
    public static string Bounded(string? text, int max = MaxLength) =>
        text is null ? "" : text.Length <= max ? text : text[..max] + "...";
}
