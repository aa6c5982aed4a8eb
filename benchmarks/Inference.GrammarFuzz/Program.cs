using System.Globalization;
using System.Text.Json;
using Inference.Engine.Grammar.Checking;
using Inference.GrammarFuzz;

// Crash fuzzing of the grammar path: JSON Schemas and tool definitions through the converter and the GBNF
// checker, and llama.cpp's grammar initialisation and sampling in child worker processes.
const string Usage = """
    usage: Inference.GrammarFuzz [--count N] [--seed S] [--model PATH] [--sample-every K] [--sample-tokens T]
                                 [--findings DIR] [--timeout SECONDS]
           Inference.GrammarFuzz compare [--model PATH] < grammars.jsonl   (one JSON string per line)
           Inference.GrammarFuzz worker --model PATH                       (internal: the child process)
      --count          cases to run (default 10000)
      --seed           random seed (default 1); the same seed gives the same cases
      --model          GGUF whose vocabulary llama.cpp uses (default ../shared/models/stories260K.gguf)
      --sample-every   sample tokens for every K-th accepted grammar (default 10, 0 = never)
      --sample-tokens  tokens per sample (default 24)
      --findings       directory for the cases that crashed, hung or disagreed (default grammar-fuzz-findings)
      --timeout        seconds a worker may take per grammar before it counts as a hang (default 30)
    Exit code 0 when nothing crashed, hung, blew up or disagreed; 1 otherwise; 2 for bad arguments.
    """;

var rest = args.ToList();
string mode = rest.Count > 0 && !rest[0].StartsWith("--", StringComparison.Ordinal) ? rest[0] : "fuzz";
if (mode != "fuzz") rest.RemoveAt(0);
string? Option(string name)
{
    int at = rest.IndexOf(name);
    if (at < 0) return null;
    if (at + 1 >= rest.Count) throw new ArgumentException($"{name} needs a value");
    return rest[at + 1];
}
int IntOption(string name, int fallback) => Option(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

try
{
    if (args.Contains("--help") || args.Contains("-h"))
    {
        Console.WriteLine(Usage);
        return 0;
    }
    string model = Path.GetFullPath(Option("--model") ?? Path.Combine("..", "shared", "models", "stories260K.gguf"));
    if (!File.Exists(model)) throw new ArgumentException($"model not found: {model}");
    switch (mode)
    {
        case "worker":
            return GrammarWorker.Run(model);
        case "compare":
            return Compare(model);
        case "fuzz":
            var options = new FuzzOptions
            {
                ModelPath = model,
                Count = IntOption("--count", 10_000),
                Seed = IntOption("--seed", 1),
                SampleEvery = IntOption("--sample-every", 10),
                SampleTokens = IntOption("--sample-tokens", 24),
                FindingsDirectory = Option("--findings") ?? "grammar-fuzz-findings",
                ProbeTimeout = TimeSpan.FromSeconds(IntOption("--timeout", 30)),
            };
            Console.WriteLine($"grammar fuzz: {options.Count} cases, seed {options.Seed}, model {Path.GetFileName(model)}");
            var report = new FuzzRunner(options).Run(Console.WriteLine);
            Console.WriteLine(report);
            if (report.Findings.Count > 0) Console.WriteLine($"findings written to {Path.GetFullPath(options.FindingsDirectory!)}");
            return report.Clean ? 0 : 1;
        default:
            throw new ArgumentException($"unknown mode '{mode}'");
    }
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(Usage);
    return 2;
}

// The checker's verdict next to llama.cpp's for each grammar on stdin.
static int Compare(string model)
{
    using var worker = new WorkerProcess(model, TimeSpan.FromSeconds(30), 3L << 30);
    while (Console.ReadLine() is { } line)
    {
        if (line.Length == 0) continue;
        var grammar = JsonSerializer.Deserialize<string>(line)!;
        var verdict = GbnfChecker.Check(grammar);
        string llama = verdict.IsUsable || verdict.LlamaCppRefusesToo
            ? worker.Probe(grammar, 0, 0) switch
            {
                (ProbeOutcome.Answered, { } r) => r.Accepted ? "accepted" : "refused",
                var (outcome, _) => outcome.ToString(),
            }
            : "not sent";
        Console.WriteLine($"checker {verdict.Problem,-20} llama.cpp {llama,-9} {verdict.Message}");
    }
    return 0;
}
