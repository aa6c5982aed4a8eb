using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Inference.Engine.Scheduling;
using Inference.Server.Ollama;

namespace Inference.Benchmarks;

/// <summary>
/// The per-token path after sampling: stop-string filtering, then one NDJSON line written for the
/// client. Runs once per generated token per stream, so it must stay far below a decode step.
/// </summary>
[MemoryDiagnoser]
public class StreamingPathBenchmarks
{
    private readonly MemoryStream _sink = new();
    private readonly string[] _pieces = ["Once", " upon", " a", " time", ",", " there", " was", " a", " little", " girl"];
    private StopSequenceFilter _filter = null!;

    [GlobalSetup]
    public void Setup() => _filter = new StopSequenceFilter(["</s>", "User:"]);

    [Benchmark(OperationsPerInvoke = 10)]
    public long FilterAndSerialize()
    {
        _sink.Position = 0;
        foreach (var piece in _pieces)
        {
            var (emit, _) = _filter.Push(piece);
            var response = new GenerateResponse { Model = "llama3.2:1b", CreatedAt = DateTimeOffset.UtcNow, Response = emit };
            JsonSerializer.Serialize(_sink, response, OllamaJsonContext.Wire.GenerateResponse);
            _sink.WriteByte((byte)'\n');
        }
        return _sink.Position;
    }
}
