using System.Diagnostics;
using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.SchemaCheck;
using Inference.Tests.Support;

namespace Inference.Tests.Grammar;

/// <summary>
/// The real-world schema corpus (tests/schemas: zod 3/4 through the openai and LangChain clients and
/// zod-to-json-schema, Pydantic v2, OpenAI strict mode, one-keyword cases, tool parameters): every schema converts,
/// and a generation with each test model through the real server over HTTP parses and is valid per JsonSchema.Net,
/// at a rotating seed and num_predict cap. The full grid
/// (every seed x every cap) is benchmarks/Inference.SchemaCheck.
/// </summary>
[Collection("server")]
public sealed class SchemaCorpusSamplingTests(SharedServer server)
{
    private static readonly IReadOnlyList<CorpusSchema> Corpus = CorpusFiles.Load(CorpusFiles.DefaultDirectory(TestModels.RepoRoot()));
    private static readonly string[] Models = ["stories", "tiny"];
    // Random weights rarely end a document before the cap, so the caps bound this class's time: 510 generations of
    // 32 tokens on average (tiny samples about 13 ms a token with a grammar on 2 cores, so roughly 2 minutes once
    // every schema converts; an estimate). 8 and 24 are below nearly any natural answer.
    private static readonly int[] Caps = [8, 24, 64];

    private static readonly string[] Sources =
        ["zod3-openai", "zod4-openai", "zod3-langchain", "zod4-langchain", "zod3-ollama", "pydantic", "openai-strict", "keywords", "tools"];

    public static IEnumerable<object[]> Names() => Corpus.Select(s => new object[] { s.Name });

    /// <summary>Each schema once per model; seed and cap rotate so that nine neighbours cover every pair.</summary>
    public static IEnumerable<object[]> Cases() =>
        Corpus.SelectMany((schema, i) => Models.Select((model, m) =>
        {
            int k = 2 * i + m;
            return new object[] { model, schema.Name, 1 + k % 3, Caps[k / 3 % 3] };
        }));

    [Fact]
    public void The_corpus_holds_at_least_150_schemas_from_every_source_and_each_is_a_schema()
    {
        Assert.True(Corpus.Count >= 150, $"{Corpus.Count} schemas");
        foreach (var source in Sources)
            Assert.True(Corpus.Count(s => s.Name.StartsWith(source + "/", StringComparison.Ordinal)) >= 10, source);
        foreach (var schema in Corpus)
        {
            using var document = JsonDocument.Parse(schema.Text);
            _ = new SchemaOracle(document.RootElement); // throws for what JsonSchema.Net does not take as a schema
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Every_corpus_schema_converts(string name)
    {
        using var document = JsonDocument.Parse(Corpus.Single(s => s.Name == name).Text);
        Assert.False(string.IsNullOrEmpty(JsonGrammar.FromSchema(document.RootElement)));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Sampled_output_parses_and_validates(string model, string name, int seed, int cap)
    {
        var schema = Corpus.Single(s => s.Name == name);
        using var document = JsonDocument.Parse(schema.Text);
        var outcome = await StructuredSample.RunAsync(server.Client, model, schema.Text, new SchemaOracle(document.RootElement), seed, cap);
        Assert.NotEqual(SampleVerdict.Refused, outcome.Verdict);
        Assert.True(outcome.Ok, $"{outcome.Describe()}\noutput: {outcome.Text}");
    }

    /// <summary>The zod part regenerates to the same bytes with the pinned packages (tests/compat/package-lock.json).</summary>
    [Fact]
    public async Task The_zod_schemas_regenerate_to_the_same_bytes()
    {
        var compat = Path.Combine(TestModels.RepoRoot(), "tests", "compat");
        Assert.True(Directory.Exists(Path.Combine(compat, "node_modules", "zod3")), "run scripts/test.sh (it installs tests/compat)");
        using var output = new TempDirectory();
        var psi = new ProcessStartInfo("node", ["generate-zod-schemas.mjs", output.Path]) { WorkingDirectory = compat, RedirectStandardOutput = true, RedirectStandardError = true };
        using var node = Process.Start(psi)!;
        var stderr = node.StandardError.ReadToEndAsync();
        await node.StandardOutput.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, await stderr);
        var regenerated = CorpusFiles.Load(output.Path);
        var committed = Corpus.Where(s => s.Name.StartsWith("zod", StringComparison.Ordinal)).ToList();
        Assert.Equal(committed.Select(s => s.Name), regenerated.Select(s => s.Name));
        foreach (var (a, b) in committed.Zip(regenerated)) Assert.True(a.Text == b.Text, $"{a.Name} differs when regenerated");
    }
}
