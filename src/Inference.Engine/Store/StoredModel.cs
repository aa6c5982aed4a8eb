namespace Inference.Engine.Store;

/// <summary>A model found in the store.</summary>
/// <param name="Name">The model's name (spelled as its manifest path is).</param>
/// <param name="Manifest">The parsed manifest.</param>
/// <param name="ModifiedAt">Last write time of the manifest file.</param>
/// <param name="Digest">Hex SHA-256 of the manifest file's bytes: what Ollama reports as <c>digest</c> in /api/tags.</param>
/// <param name="Size">Config plus layer sizes.</param>
public sealed record StoredModel(ModelName Name, ModelManifest Manifest, DateTimeOffset ModifiedAt, string Digest, long Size);
