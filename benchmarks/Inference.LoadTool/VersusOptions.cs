using System.Globalization;

namespace Inference.LoadTool;

/// <summary>Options of the side-by-side comparison ("versus"): the same scenarios against two servers, alternating.</summary>
public sealed record VersusOptions
{
    public string Ours { get; init; } = "";
    public string Theirs { get; init; } = "";
    public int? OursPid { get; init; }
    public int? TheirsPid { get; init; }
    public string Model { get; init; } = "bench";
    public string Label { get; init; } = "model";
    public int Pairs { get; init; } = 3;
    public int PromptWords { get; init; } = 32;
    public int DecodeTokens { get; init; } = 64;
    public int PrefillTokens { get; init; } = 512;
    public int PrefixTokens { get; init; } = 1000;
    public int SuffixTokens { get; init; } = 10;
    public int StreamTokens { get; init; } = 32;
    public int Arrivals { get; init; } = 8;
    public int Streams { get; init; } = 16;
    public int Sequential { get; init; } = 8;
    /// <summary>Non-streamed requests of the whole-response runs (ours /api/generate, llama-server /completion).</summary>
    public int WholeRequests { get; init; } = 8;
    /// <summary>Tokens per whole-response request; 0 = those runs are skipped.</summary>
    public int WholeTokens { get; init; }
    /// <summary>A llama-server whose /tokenize and /detokenize cut prompts to exact token counts; null = prompts in words.</summary>
    public string? TokenizeUrl { get; init; }
    /// <summary>Settings both servers were started with, recorded in the JSON for the table's header.</summary>
    public string Settings { get; init; } = "";
    public string? JsonPath { get; init; }
    public double TimeoutSeconds { get; init; } = 600;

    public const string Usage = """
        Usage: Inference.LoadTool versus --ours URL --theirs URL [options]
        Runs each scenario against both servers, alternating which goes first, in --pairs pairs, over
        streaming POST /v1/completions, and checks both produced the same text and token counts.
          --ours-pid N / --theirs-pid N  processes whose RSS is read after load and after the arrivals run
          --model NAME                 model name sent in each request (default bench)
          --label TEXT                 the model's name in the report
          --pairs N                    alternating pairs per scenario (default 3)
          --prompt-words N             words in the decode and stream prompts (default 32)
          --decode-tokens N            tokens of the single-stream decode run (default 64)
          --prefill-tokens N           prompt tokens of the prefill run (default 512)
          --prefix-tokens N            cached prefix of the cached-prefix TTFT run (default 1000)
          --suffix-tokens N            new tokens after the cached prefix (default 10)
          --stream-tokens N            tokens per request of the concurrent and sequential runs (default 32)
          --arrivals N                 simultaneous arrivals (default 8)
          --streams N                  simultaneous streams of the larger run (default 16)
          --sequential N               requests sent one at a time (default 8)
          --whole-requests N           non-streamed requests of the whole-response runs (default 8)
          --whole-tokens N             tokens per non-streamed request (ours POST /api/generate, llama-server
                                       POST /completion), sent one after another and all at once; 0 skips (default)
          --tokenize-url URL           llama-server used to cut prompts to exact token counts
          --settings TEXT              server settings, recorded for the report
          --json PATH                  write the measurements as JSON
          --timeout-s S                per-request timeout (default 600)
        """;

    public static VersusOptions Parse(IReadOnlyList<string> args)
    {
        var o = new VersusOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var key = args[i];
            if (i + 1 >= args.Count) throw new ArgumentException($"Missing value for {key}.");
            var v = args[++i];
            o = key switch
            {
                "--ours" => o with { Ours = v.TrimEnd('/') },
                "--theirs" => o with { Theirs = v.TrimEnd('/') },
                "--ours-pid" => o with { OursPid = Int(key, v, 1) },
                "--theirs-pid" => o with { TheirsPid = Int(key, v, 1) },
                "--model" => o with { Model = v },
                "--label" => o with { Label = v },
                "--pairs" => o with { Pairs = Int(key, v, 1) },
                "--prompt-words" => o with { PromptWords = Int(key, v, 4) },
                "--decode-tokens" => o with { DecodeTokens = Int(key, v, 2) },
                "--prefill-tokens" => o with { PrefillTokens = Int(key, v, 8) },
                "--prefix-tokens" => o with { PrefixTokens = Int(key, v, 8) },
                "--suffix-tokens" => o with { SuffixTokens = Int(key, v, 1) },
                "--stream-tokens" => o with { StreamTokens = Int(key, v, 2) },
                "--arrivals" => o with { Arrivals = Int(key, v, 1) },
                "--streams" => o with { Streams = Int(key, v, 1) },
                "--sequential" => o with { Sequential = Int(key, v, 1) },
                "--whole-requests" => o with { WholeRequests = Int(key, v, 1) },
                "--whole-tokens" => o with { WholeTokens = Int(key, v, 0) },
                "--tokenize-url" => o with { TokenizeUrl = v.TrimEnd('/') },
                "--settings" => o with { Settings = v },
                "--json" => o with { JsonPath = v },
                "--timeout-s" => o with { TimeoutSeconds = Int(key, v, 1) },
                _ => throw new ArgumentException($"Unknown option {key}."),
            };
        }
        if (o.Ours.Length == 0 || o.Theirs.Length == 0) throw new ArgumentException("--ours and --theirs are required.");
        return o;
    }

    private static int Int(string key, string v, int min) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n : throw new ArgumentException($"{key} expects an integer >= {min}, got '{v}'.");
}
