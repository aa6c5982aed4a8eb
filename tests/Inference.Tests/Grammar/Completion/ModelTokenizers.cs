using System.Text;
using Inference.Tests.Support;
using LLama;
using LLama.Common;

namespace Inference.Tests.Grammar.Completion;

/// <summary>The test models' tokenizers (vocabulary only), to count what a closing text costs independently of the server.</summary>
public static class ModelTokenizers
{
    private static readonly Lazy<LLamaWeights> Stories = new(() => Load(TestModels.Stories260K));
    private static readonly Lazy<LLamaWeights> Tiny = new(() => Load(TestModels.TinyRandomLlama2));

    private static LLamaWeights Load(string path) => LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0 });

    /// <summary>Tokens of <paramref name="text"/> for the server's model name ("stories", "tiny" and the tool models made from them).</summary>
    public static int Count(string model, string text)
    {
        if (text.Length == 0) return 0;
        var weights = model is "stories" or "qwen-tools" ? Stories.Value : Tiny.Value;
        var tokens = weights.Tokenize(text, false, false, Encoding.UTF8);
        // SentencePiece puts a space in front of the text; a token that is only that space is not part of it.
        Span<byte> first = stackalloc byte[8];
        if (tokens.Length > 1 && text[0] != ' ' && weights.NativeHandle.TokenToSpan(tokens[0], first) == 1 && first[0] == (byte)' ')
            return tokens.Length - 1;
        return tokens.Length;
    }
}
