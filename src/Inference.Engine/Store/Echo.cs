namespace Inference.Engine.Store;

/// <summary>Client- or registry-supplied text as it may appear in an error message: bounded, so a huge name or digest is not sent back whole.</summary>
public static class Echo
{
    public const int MaxLength = 100;

    public static string Bounded(string? text) =>
        text is null ? "" : text.Length <= MaxLength ? text : text[..MaxLength] + "...";
}
