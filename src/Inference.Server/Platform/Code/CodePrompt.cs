using Inference.Engine.Generation;
using Inference.Engine.Models;
using LLama.Native;

namespace Inference.Server.Platform.Code;

/// <summary>How the model is asked: fill in between the code around the cursor, or continue what precedes it.</summary>
public enum CompletionMode { FillInTheMiddle, Prefix }

/// <summary>
/// Builds the prompt of a code completion. With fill-in-the-middle tokens the engine renders
/// llama.cpp's infill order, BOS &lt;PRE&gt; before &lt;SUF&gt; after &lt;MID&gt;, and the model ends
/// the middle with its end-of-text token (e.g. CodeLlama's &lt;EOT&gt;, an end-of-generation token
/// to llama.cpp). Without them the model continues the code before the cursor, exactly as typed:
/// no header naming the language, which would change what it writes (and no comment syntax fits
/// every language); it stops at a blank line (the end of the statement or block being written) or
/// at max_tokens.
/// </summary>
public static class CodePrompt
{
    /// <summary>Tokens the prompt adds around the code at most: BOS, and &lt;PRE&gt; &lt;SUF&gt; &lt;MID&gt;.</summary>
    public const int MaxOverheadTokens = 4;

    /// <summary>Where a prefix-only completion ends.</summary>
    public const string BlankLine = "\n\n";

    /// <summary>
    /// What llama.cpp reports for the loaded vocabulary: it reads the GGUF's FIM token ids and
    /// also recognizes the usual FIM token texts of families whose GGUF lacks them.
    /// </summary>
    public static CompletionMode ModeFor(SafeLlamaModelHandle.Vocabulary vocab) =>
        vocab.InfillPrefix is not null && vocab.InfillSuffix is not null && vocab.InfillMiddle is not null
            ? CompletionMode.FillInTheMiddle
            : CompletionMode.Prefix;

    public static string Name(CompletionMode mode) => mode == CompletionMode.FillInTheMiddle ? "fim" : "prefix";

    /// <summary>The engine input; TopLogprobs 0 reports each sampled token's log-probability (for confidence).</summary>
    public static GenerationInput Build(ModelDefinition model, CompletionMode mode, string before, string after, ModelOptions options) =>
        mode == CompletionMode.FillInTheMiddle
            ? new GenerationInput { Model = model, RawPrompt = before, Suffix = after, Options = options, TopLogprobs = 0 }
            : new GenerationInput
            {
                Model = model,
                RawPrompt = before,
                Options = options with { Stop = [.. options.Stop ?? model.Parameters.Stop ?? [], BlankLine] },
                TopLogprobs = 0,
            };
}
