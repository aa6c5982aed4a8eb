namespace Inference.Engine.Store;

/// <summary>Imported content did not hash to the digest the caller promised; nothing was stored.</summary>
public sealed class BlobDigestMismatchException : Exception
{
    public BlobDigestMismatchException(string expected, string actual)
        : base($"digest mismatch: expected {expected}, content is {actual}")
    {
        Expected = expected;
        Actual = actual;
    }

    public string Expected { get; }

    public string Actual { get; }
}
