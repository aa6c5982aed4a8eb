using Inference.Engine.Gguf;
using Inference.Engine.Models;
using Inference.Engine.Store;
using Inference.Tests.Support;

namespace Inference.Tests.Models;

/// <summary>
/// Prepared models: a name resolved once is resolved again without opening a file, a changed manifest
/// (rewritten here or by another process) is read again, a copy shares what was prepared, and the cached
/// GGUF header holds no tokenizer arrays.
/// </summary>
public sealed class ModelCatalogTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly List<string> _opened = [];
    private readonly ModelStore _store;
    private readonly ModelCatalog _catalog;

    public ModelCatalogTests()
    {
        var open = new ModelStore(_dir.Path).OpenForReading;
        _store = new ModelStore(_dir.Path)
        {
            OpenForReading = path =>
            {
                lock (_opened) _opened.Add(path);
                return open(path);
            },
        };
        _catalog = new ModelCatalog(_store);
    }

    public void Dispose() => _dir.Dispose();

    private int Opens
    {
        get { lock (_opened) return _opened.Count; }
    }

    private void ResetOpens()
    {
        lock (_opened) _opened.Clear();
    }

    private async Task<ModelManifest> AddAsync(string name, string? template, string? system = null)
    {
        var ct = CancellationToken.None;
        ManifestLayer model;
        await using (var weights = File.OpenRead(TestModels.Stories260K))
            model = await _store.ImportBlobAsync(weights, MediaTypes.Model, null, ct);
        var layers = new List<ManifestLayer> { model };
        if (template is not null) layers.Add(await _store.WriteTextBlobAsync(template, MediaTypes.Template, ct));
        if (system is not null) layers.Add(await _store.WriteTextBlobAsync(system, MediaTypes.System, ct));
        var config = await _store.WriteConfigAsync(new ModelConfig { ModelFormat = "gguf", RootFs = new ModelRootFs { DiffIds = layers.Select(l => l.Digest).ToList() } }, ct);
        var manifest = new ModelManifest { Config = config, Layers = layers };
        await _store.WriteManifestAsync(ModelName.Parse(name), manifest, ct);
        return manifest;
    }

    [Fact]
    public async Task A_resolved_model_is_resolved_again_without_opening_a_file()
    {
        await AddAsync("m", ToolTemplates.Qwen, system: "Be brief.");
        ResetOpens();
        var first = _catalog.Find(ModelName.Parse("m"))!;
        // The manifest, the template and system layers, and the GGUF header: read once.
        Assert.Equal(4, Opens);
        Assert.Equal(new[] { "completion", "tools" }, first.Prepared.Capabilities);
        Assert.NotNull(first.Prepared.ToolCallFormat);
        Assert.Equal("<tool_call>", first.Prepared.ToolCallFormat!.Trigger);

        ResetOpens();
        for (int i = 0; i < 100; i++)
        {
            var again = _catalog.Find(ModelName.Parse("M:latest"))!; // any letter case
            Assert.Same(first.Prepared, again.Prepared);
            Assert.Same(first.Prepared.PromptTemplate, again.Prepared.PromptTemplate);
            Assert.Equal("M:latest", again.DisplayName); // named as asked, as before the cache
        }
        Assert.Equal(0, Opens);
    }

    [Fact]
    public async Task A_manifest_rewritten_by_the_store_is_read_again()
    {
        await AddAsync("m", "{{ .Prompt }} A");
        var before = _catalog.Find(ModelName.Parse("m"))!;
        Assert.Equal("{{ .Prompt }} A", before.Template);

        await AddAsync("m", "{{ .Prompt }} B"); // same length, written within the same file-time tick at times
        var after = _catalog.Find(ModelName.Parse("m"))!;
        Assert.Equal("{{ .Prompt }} B", after.Template);
        Assert.NotEqual(before.Prepared.ManifestDigest, after.Prepared.ManifestDigest);
        // The weights did not change: their header summary is shared, not read again.
        Assert.Same(before.Gguf, after.Gguf);
    }

    [Fact]
    public async Task A_manifest_rewritten_by_another_process_is_read_again()
    {
        await AddAsync("m", "{{ .Prompt }}");
        await AddAsync("other", "{{ .System }} {{ .Prompt }}", system: "Other.");
        Assert.Equal("{{ .Prompt }}", _catalog.Find(ModelName.Parse("m"))!.Template);

        // As Ollama sharing the models directory would: the manifest file replaced behind the store's back.
        var file = _store.ManifestFile(ModelName.Parse("m"))!;
        var version = _store.ManifestVersion;
        await Task.Delay(20); // a later file time than the first write's
        File.Copy(_store.ManifestFile(ModelName.Parse("other"))!, file, overwrite: true);
        Assert.Equal(version, _store.ManifestVersion);

        var changed = _catalog.Find(ModelName.Parse("m"))!;
        Assert.Equal("{{ .System }} {{ .Prompt }}", changed.Template);
        Assert.Equal("Other.", changed.System);

        File.Delete(file);
        Assert.Null(_catalog.Find(ModelName.Parse("m")));
    }

    [Fact]
    public async Task A_copy_shares_the_prepared_model_and_a_delete_forgets_it()
    {
        await AddAsync("m", "{{ .Prompt }}");
        var original = _catalog.Find(ModelName.Parse("m"))!;
        Assert.True(_store.Copy(ModelName.Parse("m"), ModelName.Parse("copy")));

        ResetOpens();
        var copy = _catalog.Find(ModelName.Parse("copy"))!;
        Assert.Same(original.Prepared, copy.Prepared);
        Assert.Equal(new[] { _store.ManifestFile(ModelName.Parse("copy")) }, _opened); // only its manifest, to learn its digest

        Assert.True(_store.Delete(ModelName.Parse("m")));
        Assert.Null(_catalog.Find(ModelName.Parse("m")));
        Assert.Same(original.Prepared, _catalog.Find(ModelName.Parse("copy"))!.Prepared);
    }

    [Fact]
    public async Task The_cached_header_holds_no_tokenizer_arrays_and_the_full_one_is_read_on_demand()
    {
        await AddAsync("m", null);
        var model = _catalog.Find(ModelName.Parse("m"))!;
        var full = GgufFile.Read(TestModels.Stories260K);

        // stories260K has a 512-token vocabulary: tokens, scores and token types are summaries.
        Assert.Equal(new GgufArraySummary(GgufValueType.String, 512), model.Gguf.Metadata["tokenizer.ggml.tokens"]);
        Assert.Equal(new GgufArraySummary(GgufValueType.Float32, 512), model.Gguf.Metadata["tokenizer.ggml.scores"]);
        Assert.Equal(new GgufArraySummary(GgufValueType.Int32, 512), model.Gguf.Metadata["tokenizer.ggml.token_type"]);
        Assert.DoesNotContain(model.Gguf.Metadata.Values, v => v is IReadOnlyList<object?> { Count: > GgufFile.SummaryArrayLimit });
        // Everything else is the same as in the full header.
        Assert.Equal(full.Metadata.Keys.Order(), model.Gguf.Metadata.Keys.Order());
        foreach (var (key, value) in full.Metadata)
            if (value is not IReadOnlyList<object?> { Count: > GgufFile.SummaryArrayLimit })
                Assert.Equal(value, model.Gguf.Metadata[key]);
        Assert.Equal(full.Tensors.Select(t => (t.Name, t.ByteSize)), model.Gguf.Tensors.Select(t => (t.Name, t.ByteSize)));
        Assert.Equal((full.DataOffset, full.DataEnd, full.ParameterCount), (model.Gguf.DataOffset, model.Gguf.DataEnd, model.Gguf.ParameterCount));

        ResetOpens();
        var read = _catalog.ReadFullHeader(model);
        Assert.Equal(new[] { model.ModelPath }, _opened);
        Assert.Equal(512, ((IReadOnlyList<object?>)read.Metadata["tokenizer.ggml.tokens"]!).Count);
        Assert.Equal(full.Metadata["tokenizer.ggml.tokens"], read.Metadata["tokenizer.ggml.tokens"]);
    }

    [Fact]
    public void A_summary_checks_the_skipped_arrays_as_a_full_read_does()
    {
        var bytes = File.ReadAllBytes(TestModels.Stories260K);
        var full = GgufFile.Read(new MemoryStream(bytes), bytes.Length);
        // Cut halfway through the header (the tokenizer arrays are most of it): both reads must see the truncation.
        int cut = (int)(full.HeaderSize / 2);
        var fullError = Assert.Throws<InvalidGgufException>(() => GgufFile.Read(new MemoryStream(bytes[..cut]), cut));
        var summaryError = Assert.Throws<InvalidGgufException>(() => GgufFile.ReadSummary(new MemoryStream(bytes[..cut]), cut));
        Assert.StartsWith("file is truncated", fullError.Message);
        Assert.StartsWith("file is truncated", summaryError.Message);
    }
}
