using System.Text.Json;

namespace Inference.GrammarFuzz;

/// <summary>What the parent asks a worker: llama.cpp's verdict on a grammar, and optionally a few sampled tokens.</summary>
public sealed record ProbeRequest(long Id, string Grammar, int SampleTokens, uint Seed);

/// <summary>The worker's answer. <see cref="Error"/> is a managed failure (a crash gives no answer at all).</summary>
public sealed record ProbeResponse(long Id, bool Accepted, string? Text = null, bool Finished = false, int Tokens = 0, string? Error = null);

/// <summary>
/// The child side: loads the model once, then answers one JSON request per stdin line with one JSON line on
/// stdout (prefixed, since llama.cpp may log to stdout too). A native abort ends the process mid-request,
/// which the parent sees as a crash.
/// </summary>
public static class GrammarWorker
{
    public const string ReplyPrefix = "@@probe ";

    public static int Run(string modelPath)
    {
        using var probe = new NativeGrammarProbe(modelPath);
        var stdout = Console.Out;
        stdout.WriteLine(ReplyPrefix + "ready");
        stdout.Flush();
        while (Console.In.ReadLine() is { } line)
        {
            var request = JsonSerializer.Deserialize(line, FuzzJson.Default.ProbeRequest)!;
            ProbeResponse response;
            try
            {
                bool accepted = probe.Accepts(request.Grammar);
                response = new ProbeResponse(request.Id, accepted);
                if (accepted && request.SampleTokens > 0)
                {
                    var (text, finished, tokens) = probe.Sample(request.Grammar, request.Seed, request.SampleTokens);
                    response = response with { Text = text, Finished = finished, Tokens = tokens };
                }
            }
            catch (Exception ex)
            {
                response = new ProbeResponse(request.Id, false, Error: ex.GetType().Name + ": " + ex.Message);
            }
            stdout.WriteLine(ReplyPrefix + JsonSerializer.Serialize(response, FuzzJson.Default.ProbeResponse));
            stdout.Flush();
        }
        return 0;
    }
}
