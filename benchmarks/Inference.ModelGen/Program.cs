using System.Diagnostics;
using Inference.ModelGen;

const string usage = """
    Usage: Inference.ModelGen --preset NAME --quant TYPE --out PATH.gguf [--seed N] [--keep-f16] [--check]
           Inference.ModelGen --check-only PATH.gguf
      --preset   llama3.2-1b | codellama-7b | tiny | small
      --quant    f16 (no quantization) or a llama.cpp type such as q4_k_m, q8_0, q4_0
      --seed     random seed for the weights (default 1)
      --keep-f16 keep the intermediate F16 file (PATH.f16.gguf)
      --check    afterwards load the model with LLamaSharp, prefill a prompt and decode a few tokens
    """;

string? preset = null, quant = null, output = null;
var seed = 1;
var keepF16 = false;
var check = false;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"Missing value for {args[i]}.");
        switch (args[i])
        {
            case "--preset": preset = Next(); break;
            case "--quant": quant = Next().ToLowerInvariant(); break;
            case "--out": output = Next(); break;
            case "--seed": seed = int.Parse(Next(), System.Globalization.CultureInfo.InvariantCulture); break;
            case "--keep-f16": keepF16 = true; break;
            case "--check": check = true; break;
            case "--check-only":
                ModelCheck.Run(Next(), Console.WriteLine);
                return 0;
            case "--help" or "-h": Console.WriteLine(usage); return 0;
            default: throw new ArgumentException($"Unknown option {args[i]}.");
        }
    }
    if (preset is null || quant is null || output is null) throw new ArgumentException("--preset, --quant and --out are required.");
    if (!ModelPreset.All.ContainsKey(preset)) throw new ArgumentException($"Unknown preset '{preset}'.");
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(usage);
    return 2;
}

var p = ModelPreset.All[preset];
output = Path.GetFullPath(output);
Directory.CreateDirectory(Path.GetDirectoryName(output)!);
var params_ = p.Tensors().Sum(t => t.Elements);
Console.WriteLine($"{p.Name}: {params_ / 1e9:F3} B parameters, {p.Tensors().Count} tensors -> {output} ({quant})");

var total = Stopwatch.StartNew();
// The F16 intermediate lives next to the output so the quantizer reads and writes on the same disk.
var f16 = quant == "f16" ? output : output + ".f16.gguf";
var sw = Stopwatch.StartNew();
var f16Bytes = ModelGenerator.WriteF16(p, f16, seed, Console.WriteLine);
Console.WriteLine($"F16 written: {f16Bytes / 1e6:F0} MB in {sw.Elapsed.TotalSeconds:F1} s");

if (quant != "f16")
{
    sw.Restart();
    try
    {
        ModelGenerator.Quantize(f16, output, quant);
    }
    finally
    {
        if (!keepF16) File.Delete(f16);
    }
    Console.WriteLine($"quantized to {quant}: {new FileInfo(output).Length / 1e6:F0} MB in {sw.Elapsed.TotalSeconds:F1} s");
}
Console.WriteLine($"done in {total.Elapsed.TotalSeconds:F1} s: {output}");
if (check) ModelCheck.Run(output, Console.WriteLine);
return 0;
