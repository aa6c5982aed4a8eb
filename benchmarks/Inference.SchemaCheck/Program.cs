using System.Globalization;
using System.Text.Json;
using Inference.SchemaCheck;
using Inference.Server.Hosting;

// The structured-output validity measurement: every corpus schema x model x seed x num_predict cap through the
// real server over HTTP; the share of outputs that parse and validate (JsonSchema.Net), per model per cap.
CheckOptions options;
try
{
    if (args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(CheckOptions.Usage);
        return 0;
    }
    options = CheckOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(CheckOptions.Usage);
    return 2;
}

var repoRoot = CorpusFiles.FindRepoRoot(AppContext.BaseDirectory);
var corpus = CorpusFiles.Load(options.Corpus ?? CorpusFiles.DefaultDirectory(repoRoot))
    .Where(s => options.Filter is null || s.Name.Contains(options.Filter, StringComparison.Ordinal)).ToList();
var oracles = corpus.ToDictionary(s => s.Name, s => new SchemaOracle(JsonDocument.Parse(s.Text).RootElement));

await using var server = options.Url is null ? await InProcessServer.StartAsync(ModelFiles(options, repoRoot)) : null;
var models = server?.Models ?? options.Models;
using var http = new HttpClient { BaseAddress = new Uri(options.Url ?? server!.Url), Timeout = TimeSpan.FromMinutes(10) };

var grid = (from model in models from cap in options.Caps from schema in corpus from seed in options.Seeds select (model, cap, schema, seed)).ToList();
Console.WriteLine($"{corpus.Count} schemas x {models.Count} models x {options.Seeds.Count} seeds x {options.Caps.Count} caps = {grid.Count} generations");
var outcomes = new SampleOutcome[grid.Count];
int finished = 0;
var started = DateTime.UtcNow;
await Parallel.ForEachAsync(Enumerable.Range(0, grid.Count), new ParallelOptions { MaxDegreeOfParallelism = options.Parallel }, async (i, ct) =>
{
    var (model, cap, schema, seed) = grid[i];
    outcomes[i] = await StructuredSample.RunAsync(http, model, schema.Text, oracles[schema.Name], seed, cap, ct);
    if (Interlocked.Increment(ref finished) % 100 == 0) Console.Error.WriteLine($"{finished}/{grid.Count} ({(DateTime.UtcNow - started).TotalSeconds:F0} s)");
});

var rows = grid.Zip(outcomes, (g, o) => (g.model, g.cap, g.schema, g.seed, o)).ToList();
Console.WriteLine();
Console.WriteLine($"{"model",-24} {"cap",5} {"valid",11} {"share",7}   refused  not-json(cut)  invalid  error");
bool belowRequired = false;
foreach (var group in rows.GroupBy(r => (r.model, r.cap)))
{
    int total = group.Count(), valid = group.Count(r => r.o.Ok);
    double share = valid / (double)total;
    belowRequired |= options.Required is { } required && share < required;
    int Count(SampleVerdict v) => group.Count(r => r.o.Verdict == v);
    int cut = group.Count(r => r.o.Verdict == SampleVerdict.NotJson && r.o.DoneReason == "length");
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{group.Key.model,-24} {group.Key.cap,5} {$"{valid}/{total}",11} {share,7:P1}   {Count(SampleVerdict.Refused),7}  {$"{Count(SampleVerdict.NotJson)}({cut})",13}  {Count(SampleVerdict.Invalid),7}  {Count(SampleVerdict.Error),5}"));
}

// Each failing schema once, with how many of its generations failed and the first reason of each kind.
var failing = rows.Where(r => !r.o.Ok).GroupBy(r => r.schema.Name).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
Console.WriteLine();
Console.WriteLine($"{failing.Count} of {corpus.Count} schemas had failures:");
foreach (var schema in failing)
{
    Console.WriteLine($"  {schema.Key}: {schema.Count()} of {rows.Count(r => r.schema.Name == schema.Key)} failed");
    foreach (var kind in schema.GroupBy(r => r.o.Verdict))
    {
        var first = kind.First();
        Console.WriteLine($"    {kind.Count()} x {Shorten(first.o.Describe())}  [{first.model}, seed {first.seed}, cap {first.cap}]");
    }
}
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(DateTime.UtcNow - started).TotalSeconds:F0} s"));
return belowRequired ? 1 : 0;

static string Shorten(string s) => s.Length <= 240 ? s.ReplaceLineEndings(" ") : s[..240].ReplaceLineEndings(" ") + "...";

static IReadOnlyList<string> ModelFiles(CheckOptions options, string repoRoot)
{
    if (options.ModelFiles.Count > 0) return options.ModelFiles;
    var dir = Environment.GetEnvironmentVariable("INFERENCE_TEST_MODELS") is { Length: > 0 } env ? env : Path.Combine(repoRoot, "..", "shared", "models");
    return [$"stories={Path.Combine(dir, "stories260K.gguf")}", $"tiny={Path.Combine(dir, "llama-2-tiny-random.gguf")}"];
}
