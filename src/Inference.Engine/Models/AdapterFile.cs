namespace Inference.Engine.Models;

/// <summary>A LoRA adapter blob of a model: where it is and how many bytes of tensors it adds to a load.</summary>
public sealed record AdapterFile(string Digest, string Path, long TensorBytes);
