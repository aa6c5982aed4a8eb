using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace Inference.LoadTool;

/// <summary>
/// Cuts word prompts to an exact number of tokens with llama-server's /tokenize and /detokenize (both
/// servers read the same GGUF, so they tokenize alike; the runs check that through usage.prompt_tokens).
/// Without a tokenizer the prompt stays in words, about one token each on the benchmark model.
/// </summary>
public sealed class TokenPrompts(HttpClient? tokenizer)
{
    /// <summary>
    /// <paramref name="words"/> cut to <paramref name="tokens"/> tokens, the BOS token the server adds
    /// included; <paramref name="words"/> must hold at least that many (every word is at least one token).
    /// </summary>
    public async Task<string> CutAsync(string words, int tokens, CancellationToken ct)
    {
        if (tokenizer is null) return words;
        var ids = await TokenizeAsync(words, ct);
        var want = tokens - 1;
        if (ids.Length < want) throw new InvalidOperationException($"the words make only {ids.Length} tokens, {want} were asked for");
        // Detokenized text can re-tokenize to a slightly different count at the cut; move the cut until it matches.
        var cut = want;
        for (var attempt = 0; attempt < 8; attempt++)
        {
            var text = await DetokenizeAsync(ids[..cut], ct);
            var count = (await TokenizeAsync(text, ct)).Length;
            if (count == want) return text;
            cut = Math.Clamp(cut + want - count, 1, ids.Length);
        }
        throw new InvalidOperationException($"could not cut a prompt to exactly {tokens} tokens");
    }

    private async Task<int[]> TokenizeAsync(string text, CancellationToken ct)
    {
        using var resp = await tokenizer!.PostAsJsonAsync("tokenize", new TokenizeRequest(text, false), ct);
        resp.EnsureSuccessStatusCode();
        return (await resp.Content.ReadFromJsonAsync<TokenizeResponse>(ct))?.Tokens ?? throw new InvalidOperationException("/tokenize returned no tokens");
    }

    private async Task<string> DetokenizeAsync(int[] tokens, CancellationToken ct)
    {
        using var resp = await tokenizer!.PostAsJsonAsync("detokenize", new DetokenizeRequest(tokens), ct);
        resp.EnsureSuccessStatusCode();
        return (await resp.Content.ReadFromJsonAsync<DetokenizeResponse>(ct))?.Content ?? throw new InvalidOperationException("/detokenize returned no content");
    }

    private sealed record TokenizeRequest([property: JsonPropertyName("content")] string Content, [property: JsonPropertyName("add_special")] bool AddSpecial);
    private sealed record TokenizeResponse([property: JsonPropertyName("tokens")] int[] Tokens);
    private sealed record DetokenizeRequest([property: JsonPropertyName("tokens")] int[] Tokens);
    private sealed record DetokenizeResponse([property: JsonPropertyName("content")] string Content);
}
