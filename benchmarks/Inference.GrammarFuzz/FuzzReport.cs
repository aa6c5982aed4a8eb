using System.Text;
using Inference.Engine.Grammar.Checking;

namespace Inference.GrammarFuzz;

/// <summary>The counts of one fuzz run. The ones that must stay 0: crashes, hangs, memory blow-ups, disagreements,
/// converter failures, worker errors and invalid outputs.</summary>
public sealed class FuzzReport
{
    public int Schemas { get; set; }
    public int ToolSets { get; set; }
    public int Mutations { get; set; }
    public int Converted { get; set; }
    /// <summary>Inputs refused before a grammar existed, by reason (schema keyword, tool field, JSON depth).</summary>
    public SortedDictionary<string, int> Refused { get; } = new(StringComparer.Ordinal);
    /// <summary>Grammars the checker refused, by problem (only edited grammars should appear here).</summary>
    public SortedDictionary<GbnfProblem, int> CheckerRefused { get; } = new();
    public int Probed { get; set; }
    public int LlamaAccepted { get; set; }
    public int LlamaRefused { get; set; }
    public int Sampled { get; set; }
    public int SampledFinished { get; set; }
    public long SampledTokens { get; set; }
    public int Crashes { get; set; }
    public int Hangs { get; set; }
    public int MemoryBlowups { get; set; }
    public int Disagreements { get; set; }
    public int ConverterFailures { get; set; }
    public int WorkerErrors { get; set; }
    public int InvalidOutputs { get; set; }
    public int WorkerStarts { get; set; }
    public TimeSpan Elapsed { get; set; }
    public List<string> Findings { get; } = [];

    public int Cases => Schemas + ToolSets + Mutations;

    public bool Clean => Crashes == 0 && Hangs == 0 && MemoryBlowups == 0 && Disagreements == 0 && ConverterFailures == 0
        && WorkerErrors == 0 && InvalidOutputs == 0;

    public void Refuse(string reason) => Refused[reason] = Refused.GetValueOrDefault(reason) + 1;

    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine($"cases run:                {Cases} ({Schemas} schemas, {ToolSets} tool sets, {Mutations} edited grammars) in {Elapsed.TotalSeconds:F1} s");
        sb.AppendLine($"converted to a grammar:   {Converted}");
        sb.AppendLine($"refused before a grammar: {Refused.Values.Sum()}");
        foreach (var (reason, count) in Refused) sb.AppendLine($"    {reason}: {count}");
        sb.AppendLine($"refused by the checker:   {CheckerRefused.Values.Sum()} (edited grammars)");
        foreach (var (problem, count) in CheckerRefused) sb.AppendLine($"    {problem}: {count}");
        sb.AppendLine($"sent to llama.cpp:        {Probed} (accepted {LlamaAccepted}, refused {LlamaRefused})");
        sb.AppendLine($"sampled:                  {Sampled} grammars, {SampledTokens} tokens, {SampledFinished} ran to the end");
        sb.AppendLine($"crashes:                  {Crashes} (worker processes started: {WorkerStarts})");
        sb.AppendLine($"hangs:                    {Hangs}");
        sb.AppendLine($"memory blow-ups:          {MemoryBlowups}");
        sb.AppendLine($"checker vs llama.cpp:     {Disagreements} disagreements");
        sb.AppendLine($"converter failures:       {ConverterFailures}");
        sb.AppendLine($"worker errors:            {WorkerErrors}");
        sb.AppendLine($"invalid JSON outputs:     {InvalidOutputs}");
        foreach (var finding in Findings.Take(20)) sb.AppendLine("  " + finding);
        return sb.ToString();
    }
}
