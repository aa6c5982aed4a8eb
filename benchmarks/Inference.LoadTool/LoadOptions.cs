using System.Globalization;

namespace Inference.LoadTool;

/// <summary>Which endpoint the requests go to.</summary>
public enum ApiKind
{
    /// <summary>Ollama's streaming POST /api/generate (NDJSON).</summary>
    OllamaGenerate,
    /// <summary>OpenAI's streaming POST /v1/completions (server-sent events), which llama-server also serves.</summary>
    OpenAICompletions,
}

/// <summary>Command-line options. Hand-rolled "--key value" parsing keeps the tool dependency-free.</summary>
public sealed record LoadOptions
{
    public string Url { get; init; } = "http://127.0.0.1:11434";
    public string Model { get; init; } = "llama3.2:1b";
    public int Clients { get; init; } = 1;
    public int Requests { get; init; } = 10;
    public int PromptTokens { get; init; } = 128;
    public int OutputTokens { get; init; } = 64;
    public int SharedPrefixTokens { get; init; }
    public double SharedPrefixShare { get; init; }
    public double Temperature { get; init; }
    public int Warmup { get; init; }
    public int Seed { get; init; } = 42;
    public string? JsonPath { get; init; }
    public string? Label { get; init; }
    public double TimeoutSeconds { get; init; } = 300;
    public ApiKind Api { get; init; } = ApiKind.OllamaGenerate;
    /// <summary>
    /// Sent as repeat_penalty / repeat_last_n. Ollama's defaults (1.1 over the last 64 tokens), which our
    /// /v1 applies and cannot change; llama-server takes them as extra fields, so both sample alike.
    /// </summary>
    public double RepeatPenalty { get; init; } = 1.1;
    public int RepeatLastN { get; init; } = 64;

    public const string Usage = """
        Usage: Inference.LoadTool [options]
          --url URL                    server base URL (default http://127.0.0.1:11434)
          --model NAME                 model name sent in each request
          --clients N                  concurrent clients (default 1)
          --requests N                 total measured requests (default 10)
          --prompt-tokens N            approximate prompt length in words (default 128)
          --output-tokens N            options.num_predict (default 64)
          --shared-prefix-tokens N     length of the common prefix (default 0)
          --shared-prefix-share F      fraction 0..1 of requests using the common prefix (default 0)
          --temperature T              sampling temperature (default 0)
          --warmup N                   unmeasured warm-up requests (default 0)
          --seed N                     prompt generation seed (default 42)
          --json PATH                  also write the results as JSON
          --label TEXT                 label stored with the results
          --timeout-s S                per-request timeout in seconds (default 300)
          --api A                      ollama-generate (default) or openai-completions (/v1/completions, SSE)
          --repeat-penalty F           repeat_penalty sent with each request (default 1.1, Ollama's)
          --repeat-last-n N            repeat_last_n sent with each request (default 64, Ollama's)

        Side by side against llama-server: Inference.LoadTool versus --help
        """;

    /// <summary>Parses args; throws <see cref="ArgumentException"/> with a readable message on bad input.</summary>
    public static LoadOptions Parse(IReadOnlyList<string> args)
    {
        var o = new LoadOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var key = args[i];
            if (!key.StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{key}'.");
            if (i + 1 >= args.Count)
                throw new ArgumentException($"Missing value for {key}.");
            var v = args[++i];
            o = key switch
            {
                "--url" => o with { Url = v.TrimEnd('/') },
                "--model" => o with { Model = v },
                "--clients" => o with { Clients = Int(key, v, 1) },
                "--requests" => o with { Requests = Int(key, v, 1) },
                "--prompt-tokens" => o with { PromptTokens = Int(key, v, 1) },
                "--output-tokens" => o with { OutputTokens = Int(key, v, 1) },
                "--shared-prefix-tokens" => o with { SharedPrefixTokens = Int(key, v, 0) },
                "--shared-prefix-share" => o with { SharedPrefixShare = Fraction(key, v) },
                "--temperature" => o with { Temperature = Double(key, v) },
                "--warmup" => o with { Warmup = Int(key, v, 0) },
                "--seed" => o with { Seed = Int(key, v, int.MinValue) },
                "--json" => o with { JsonPath = v },
                "--label" => o with { Label = v },
                "--timeout-s" => o with { TimeoutSeconds = Double(key, v) },
                "--api" => o with { Api = ParseApi(v) },
                "--repeat-penalty" => o with { RepeatPenalty = Double(key, v) },
                "--repeat-last-n" => o with { RepeatLastN = Int(key, v, -1) },
                _ => throw new ArgumentException($"Unknown option {key}."),
            };
        }
        return o;
    }

    public static ApiKind ParseApi(string v) => v switch
    {
        "ollama-generate" => ApiKind.OllamaGenerate,
        "openai-completions" => ApiKind.OpenAICompletions,
        _ => throw new ArgumentException($"--api expects ollama-generate or openai-completions, got '{v}'."),
    };

    private static int Int(string key, string v, int min) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min
            ? n : throw new ArgumentException($"{key} expects an integer >= {min}, got '{v}'.");

    private static double Double(string key, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && d >= 0
            ? d : throw new ArgumentException($"{key} expects a non-negative number, got '{v}'.");

    private static double Fraction(string key, string v)
    {
        var d = Double(key, v);
        return d <= 1 ? d : throw new ArgumentException($"{key} expects a value in 0..1, got '{v}'.");
    }
}
