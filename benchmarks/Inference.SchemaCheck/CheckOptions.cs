using System.Globalization;

namespace Inference.SchemaCheck;

/// <summary>Command-line settings of the structured-output validity check.</summary>
public sealed record CheckOptions
{
    /// <summary>A running server; when null the check starts one in-process with <see cref="ModelFiles"/>.</summary>
    public string? Url { get; init; }
    /// <summary>name=path.gguf pairs for the in-process server (as its --model); their names are the models sampled.</summary>
    public IReadOnlyList<string> ModelFiles { get; init; } = [];
    /// <summary>Model names to sample on a server given by --url.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];
    public string? Corpus { get; init; }
    public string? Filter { get; init; }
    public IReadOnlyList<int> Seeds { get; init; } = [1, 2, 3];
    /// <summary>num_predict caps: 16 is too small for nearly every natural answer, 256 for many on random weights.</summary>
    public IReadOnlyList<int> Caps { get; init; } = [16, 64, 256];
    public int Parallel { get; init; } = 4;
    /// <summary>Exit 1 when any model's share at any cap is below this (0..1); null: always exit 0 after a full run.</summary>
    public double? Required { get; init; }

    public const string Usage = """
        usage: Inference.SchemaCheck [--model NAME=PATH.gguf]... | --url URL --models NAME[,NAME...]
                                     [--corpus DIR] [--filter TEXT] [--seeds 1,2,3] [--caps 16,64,256]
                                     [--parallel N] [--required SHARE]
        Samples every schema of the corpus (default tests/schemas) with every model, seed and num_predict cap
        through POST /api/generate with the schema as `format`, judges each output with JsonSchema.Net, and
        prints the share that parses and validates per model per cap, then each failing schema with its reasons.
        Without --url it starts the server in-process with the --model files (default: stories and tiny from
        ../shared/models or $INFERENCE_TEST_MODELS). --filter keeps schemas whose name contains TEXT.
        Exits 1 when --required is given and a share is below it.
        """;

    public static CheckOptions Parse(string[] args)
    {
        var o = new CheckOptions();
        var files = new List<string>();
        static IReadOnlyList<int> Ints(string s) => s.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToList();
        for (int i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--model": files.Add(Value()); break;
                case "--url": o = o with { Url = Value() }; break;
                case "--models": o = o with { Models = Value().Split(',') }; break;
                case "--corpus": o = o with { Corpus = Value() }; break;
                case "--filter": o = o with { Filter = Value() }; break;
                case "--seeds": o = o with { Seeds = Ints(Value()) }; break;
                case "--caps": o = o with { Caps = Ints(Value()) }; break;
                case "--parallel": o = o with { Parallel = int.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                case "--required": o = o with { Required = double.Parse(Value(), CultureInfo.InvariantCulture) }; break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        if (o.Url is not null && files.Count > 0) throw new ArgumentException("--url and --model exclude each other");
        if (o.Url is not null && o.Models.Count == 0) throw new ArgumentException("--url needs --models");
        if (o.Parallel < 1) throw new ArgumentException("--parallel must be at least 1");
        if (o.Seeds.Count == 0 || o.Caps.Count == 0 || o.Caps.Any(c => c < 1)) throw new ArgumentException("--seeds and --caps need values; caps at least 1");
        return o with { ModelFiles = files };
    }
}
