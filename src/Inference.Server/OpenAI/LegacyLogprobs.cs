using System.Text.Json.Serialization;
using Inference.Server.Contracts;

namespace Inference.Server.OpenAI;

/// <summary>
/// /v1/completions' log-probabilities in OpenAI's legacy format: parallel lists of the sampled tokens, their
/// log-probabilities, the <c>logprobs</c> most likely alternatives of each as a {token: logprob} map, and where
/// each token starts in the choice's text (characters from the start of the completion, the prompt not counted).
/// </summary>
public sealed record LegacyLogprobs(
    [property: JsonPropertyName("tokens")] IReadOnlyList<string> Tokens,
    [property: JsonPropertyName("token_logprobs")] IReadOnlyList<float> TokenLogprobs,
    [property: JsonPropertyName("top_logprobs")] IReadOnlyList<Dictionary<string, float>> TopLogprobs,
    [property: JsonPropertyName("text_offset")] IReadOnlyList<int> TextOffset)
{
    /// <summary>The most alternatives the legacy field allows (OpenAI's limit).</summary>
    public const int MaxAlternatives = 5;

    /// <summary>
    /// The entries for these tokens, the first starting at <paramref name="offset"/>, which is moved past them
    /// (a stream continues it across chunks). Two alternatives with the same text (different token ids) share a
    /// key in the map: the more likely one is kept, as alternatives come most likely first.
    /// </summary>
    public static LegacyLogprobs From(IReadOnlyList<LogprobDto> tokens, ref int offset)
    {
        var offsets = new int[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            offsets[i] = offset;
            offset += tokens[i].Token.Length;
        }
        return new LegacyLogprobs(
            [.. tokens.Select(t => t.Token)],
            [.. tokens.Select(t => t.Logprob)],
            [.. tokens.Select(t =>
            {
                var top = new Dictionary<string, float>(t.TopLogprobs.Count);
                foreach (var alternative in t.TopLogprobs) top.TryAdd(alternative.Token, alternative.Logprob);
                return top;
            })],
            offsets);
    }
}
