using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Engine.Grammar;
using Inference.Engine.Grammar.Checking;
using Inference.Engine.Tools;

namespace Inference.GrammarFuzz;

/// <summary>Settings of one fuzz run.</summary>
public sealed record FuzzOptions
{
    public required string ModelPath { get; init; }
    public int Count { get; init; } = 10_000;
    public int Seed { get; init; } = 1;
    /// <summary>Sample tokens through the grammar for every n-th grammar llama.cpp accepts (0 = never).</summary>
    public int SampleEvery { get; init; } = 10;
    public int SampleTokens { get; init; } = 24;
    /// <summary>Where cases that crashed, hung or disagreed are written (null = nowhere).</summary>
    public string? FindingsDirectory { get; init; }
    public TimeSpan ProbeTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public long WorkerMemoryLimitBytes { get; init; } = 3L << 30;
}

/// <summary>
/// Generates cases from a seed (schemas for structured output, tool definitions, edited grammar text), runs each
/// through the converter and the checker here, and through llama.cpp's grammar initialisation (and, for some,
/// sampling) in a worker process, counting what the server must never see: a crash, a hang, a memory blow-up,
/// or a verdict of the checker that differs from llama.cpp's.
/// </summary>
public sealed class FuzzRunner(FuzzOptions options)
{
    private readonly FuzzReport _report = new();
    private int _acceptedSinceSample;

    public FuzzReport Run(Action<string>? progress = null)
    {
        var random = new Random(options.Seed);
        var schemas = new SchemaGenerator(random);
        var others = new ToolAndGrammarCases(random, schemas);
        using var worker = new WorkerProcess(options.ModelPath, options.ProbeTimeout, options.WorkerMemoryLimitBytes);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < options.Count; i++)
        {
            int roll = random.Next(100);
            if (roll < 70) RunSchema(i, schemas.Next(), worker);
            else if (roll < 85) RunTools(i, others.Tools(), others.Format(), random.Next(2) == 0, random.Next(1, 9), worker);
            else RunMutation(i, schemas.Next(), others, worker);
            if (progress is not null && (i + 1) % 1000 == 0) progress($"{i + 1} cases, {clock.Elapsed.TotalSeconds:F0} s");
        }
        _report.WorkerStarts = worker.Starts;
        _report.Elapsed = clock.Elapsed;
        return _report;
    }

    private void RunSchema(int index, JsonObject schema, WorkerProcess worker)
    {
        _report.Schemas++;
        string input = schema.ToJsonString();
        JsonDocument document;
        try
        {
            // The HTTP layer reads request bodies with System.Text.Json's default depth limit (64), like this.
            document = JsonDocument.Parse(input);
        }
        catch (JsonException)
        {
            _report.Refuse("json: nested deeper than 64");
            return;
        }
        using (document)
        {
            string grammar;
            try
            {
                grammar = JsonGrammar.FromSchema(document.RootElement);
            }
            catch (SchemaNotSupportedException ex)
            {
                _report.Refuse("schema: " + ex.Keyword);
                return;
            }
            catch (Exception ex)
            {
                _report.ConverterFailures++;
                Save(index, "converter-failure", input, null, ex.ToString());
                return;
            }
            _report.Converted++;
            Probe(index, "schema", input, grammar, worker, expectJson: true);
        }
    }

    private void RunTools(int index, JsonArray tools, ToolCallFormat format, bool allowText, int maxCalls, WorkerProcess worker)
    {
        _report.ToolSets++;
        string input = tools.ToJsonString();
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(input);
        }
        catch (JsonException)
        {
            _report.Refuse("json: nested deeper than 64");
            return;
        }
        using var _ = document;
        if (!ToolDefinition.TryParseList(document.RootElement, out var definitions, out var error))
        {
            _report.Refuse("tools: " + error!.Param.Split('.')[^1]);
            return;
        }
        string grammar;
        try
        {
            grammar = ToolCallGrammar.Build(format, definitions, allowText, maxCalls);
        }
        catch (Exception ex)
        {
            _report.ConverterFailures++;
            Save(index, "tool-grammar-failure", input, null, ex.ToString());
            return;
        }
        _report.Converted++;
        Probe(index, "tools", input + $"\nformat: {format}\nallowText: {allowText}, maxCalls: {maxCalls}", grammar, worker, expectJson: false);
    }

    private void RunMutation(int index, JsonObject schema, ToolAndGrammarCases cases, WorkerProcess worker)
    {
        _report.Mutations++;
        string baseGrammar;
        try
        {
            using var document = JsonDocument.Parse(schema.ToJsonString());
            baseGrammar = JsonGrammar.FromSchema(document.RootElement);
        }
        catch (Exception ex) when (ex is JsonException or SchemaNotSupportedException)
        {
            baseGrammar = JsonGrammar.ForAnyJson();
        }
        Probe(index, "mutation", baseGrammar, cases.Mutate(baseGrammar), worker, expectJson: false);
    }

    /// <summary>The checker's verdict, then llama.cpp's: only grammars both should agree on are sent to llama.cpp.</summary>
    private void Probe(int index, string kind, string input, string grammar, WorkerProcess worker, bool expectJson)
    {
        var verdict = GbnfChecker.Check(grammar);
        if (!verdict.IsUsable)
        {
            _report.CheckerRefused[verdict.Problem] = _report.CheckerRefused.GetValueOrDefault(verdict.Problem) + 1;
            // Converted output the checker refuses is a converter bug (limits surface as SchemaNotSupportedException).
            if (kind != "mutation")
            {
                _report.ConverterFailures++;
                Save(index, kind + "-refused-by-checker", input, grammar, verdict.Message);
                return;
            }
            // Refusals stricter than llama.cpp cover grammars it accepts and then hangs or aborts on: not sent.
            if (!verdict.LlamaCppRefusesToo) return;
        }

        bool sample = verdict.IsUsable && options.SampleEvery > 0 && ++_acceptedSinceSample % options.SampleEvery == 0;
        var (outcome, response) = worker.Probe(grammar, sample ? options.SampleTokens : 0, (uint)index);
        _report.Probed++;
        switch (outcome)
        {
            case ProbeOutcome.Crashed:
                _report.Crashes++;
                Save(index, kind + "-crash", input, grammar, $"exit code {worker.LastExitCode}\n" + Tail(worker));
                return;
            case ProbeOutcome.TimedOut:
                _report.Hangs++;
                Save(index, kind + "-hang", input, grammar, Tail(worker));
                return;
            case ProbeOutcome.OutOfMemory:
                _report.MemoryBlowups++;
                Save(index, kind + "-memory", input, grammar, Tail(worker));
                return;
        }
        if (response!.Error is { } error)
        {
            _report.WorkerErrors++;
            Save(index, kind + "-worker-error", input, grammar, error);
            return;
        }
        if (response.Accepted) _report.LlamaAccepted++;
        else _report.LlamaRefused++;
        if (response.Accepted != verdict.IsUsable)
        {
            _report.Disagreements++;
            Save(index, kind + "-disagreement", input, grammar,
                $"checker: {verdict.Problem} ({verdict.Message}); llama.cpp: {(response.Accepted ? "accepted" : "refused")}\n" + Tail(worker));
            return;
        }
        if (!sample) return;
        _report.Sampled++;
        _report.SampledTokens += response.Tokens;
        if (!response.Finished) return;
        _report.SampledFinished++;
        if (!expectJson) return;
        try
        {
            using var _ = JsonDocument.Parse(response.Text!);
        }
        catch (JsonException ex)
        {
            _report.InvalidOutputs++;
            Save(index, kind + "-invalid-output", input, grammar, ex.Message + "\noutput: " + response.Text);
        }
    }

    private static string Tail(WorkerProcess worker)
    {
        return string.Join("\n", worker.RecentErrors.TakeLast(15));
    }

    private void Save(int index, string what, string input, string? grammar, string detail)
    {
        _report.Findings.Add($"case {index}: {what}");
        if (options.FindingsDirectory is not { } directory) return;
        Directory.CreateDirectory(directory);
        var text = new StringBuilder()
            .AppendLine($"seed {options.Seed}, case {index}: {what}")
            .AppendLine("--- input").AppendLine(input)
            .AppendLine("--- grammar").AppendLine(grammar ?? "(none)")
            .AppendLine("--- detail").AppendLine(detail);
        File.WriteAllText(Path.Combine(directory, $"seed{options.Seed}-case{index}-{what}.txt"), text.ToString());
    }
}
