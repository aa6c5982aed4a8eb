using BenchmarkDotNet.Running;
using Inference.Benchmarks;

// "decode-baseline": single-stream decode speed of LLamaSharp's StatelessExecutor vs our scheduler.
// "batch-ceiling": bare llama_decode step time for 1..16 sequences (what batching can gain here).
// "grammar-overhead": tokens/s without a grammar, with format json and with schemas, grammar checked before/after the lazy check.
// "embedding-under-load": stream inter-token p99 and embedding texts/s while 4 streams generate, before/after the EmbeddingRunner.
// "speculative": single-stream tokens/s and acceptance with n-gram drafting off and on (repetitive, SQL-like, code-like prompts).
// "report": turns the bench script's JSON results into the README's markdown table.
// Anything else goes to BenchmarkDotNet (e.g. --filter '*').
return args.FirstOrDefault() switch
{
    "decode-baseline" => await DecodeBaseline.RunAsync(args[1..]),
    "batch-ceiling" => BatchCeiling.Run(args[1..]),
    "report" => BenchReport.Run(args[1..]),
    "grammar-overhead" => await GrammarOverhead.RunAsync(args[1..]),
    "embedding-under-load" => await EmbeddingUnderLoad.RunAsync(args[1..]),
    "speculative" => await SpeculativeDecoding.RunAsync(args[1..]),
    _ => RunBenchmarks(args),
};

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(PrefixLookupBenchmarks).Assembly).Run(args);
    return 0;
}
