namespace Inference.Engine.Gguf;

/// <summary>The file is not a GGUF file this reader can use: bad magic, unsupported version,
/// truncated or internally inconsistent header.</summary>
public sealed class InvalidGgufException : Exception
{
    public InvalidGgufException(string message) : base(message) { }

    public InvalidGgufException(string message, Exception innerException) : base(message, innerException) { }
}
