using System.Text;
using System.Threading.Channels;
using Inference.Engine.Generation;
using Inference.Engine.Scheduling;
using Inference.Server.Http;

namespace Inference.Server.Platform;

/// <summary>A whole generation's text, sampled tokens (when asked for) and counts.</summary>
public sealed record GeneratedText(string Text, IReadOnlyList<TokenLogprob> Tokens, GenerationCompleted Completed, int PromptTokens);

/// <summary>The engine reported a failure after the generation started.</summary>
public sealed class GenerationFailedException(string message) : Exception(message);

/// <summary>
/// Runs generations for the /ai/* routes that need the whole answer (SQL assistant, code
/// completion, non-streamed /ai/generate), and maps engine failures to the API's errors.
/// </summary>
public static class TextGeneration
{
    /// <summary>The platform routes hold a model as long as the Ollama routes' default keep_alive.</summary>
    public static async Task<GeneratedText> CompleteAsync(GenerationService generation, GenerationInput input, TimeSpan keepAlive, CancellationToken ct)
    {
        await using var run = await generation.StartAsync(input, keepAlive, ct);
        var text = new StringBuilder();
        var tokens = new List<TokenLogprob>();
        await foreach (var e in run.Stream.Events.ReadAllAsync(ct))
        {
            switch (e)
            {
                case TokenPiece piece:
                    text.Append(piece.Text);
                    if (piece.Logprobs is { } l) tokens.AddRange(l);
                    break;
                case GenerationCompleted done:
                    return new GeneratedText(text.ToString(), tokens, done, run.PromptTokens);
                case GenerationFailed failed:
                    throw new GenerationFailedException(failed.Message);
            }
        }
        throw new ChannelClosedException("the generation ended without a result");
    }

    /// <summary>The error response for an engine failure a client should see, or null to let it propagate.</summary>
    public static IResult? ToError(Exception ex) => ex switch
    {
        GenerationFailedException f => PlatformErrors.Error(StatusCodes.Status500InternalServerError, f.Message),
        _ when GenerationErrors.Classify(ex) is { } e => PlatformErrors.Error(e.Status, e.Message),
        _ => null,
    };
}
