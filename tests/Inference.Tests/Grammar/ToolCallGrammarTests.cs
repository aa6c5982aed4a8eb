using System.Text;
using System.Text.Json;
using Inference.Engine.Grammar;
using Inference.Engine.Prompting;
using Inference.Engine.Tools;
using Inference.Tests.Support;
using LLama;
using LLama.Native;
using Xunit.Abstractions;

namespace Inference.Tests.Grammar;

/// <summary>
/// Tool-call grammars: every one must compile in llama.cpp (a bad grammar aborts the process natively, so each
/// shape the builder can emit is compiled here first), and sampling with them on the tiny models must give
/// calls of known functions whose arguments are valid for the function's schema.
/// </summary>
public sealed class ToolCallGrammarTests(GrammarModels models, ITestOutputHelper output) : IClassFixture<GrammarModels>
{
    private static readonly ToolCallFormat Qwen = ToolCallFormat.Infer(GoTemplate.Parse(ToolTemplates.Qwen));
    private static readonly ToolCallFormat Llama = ToolCallFormat.Infer(GoTemplate.Parse(ToolTemplates.Llama));
    private static readonly ToolCallFormat Mistral = new("[TOOL_CALLS] [", ", ", "]", "{\"name\": \"", "\", \"arguments\": ", "}");
    private static readonly ToolCallFormat OneCall = Qwen with { Separator = null };

    private static readonly Dictionary<string, ToolCallFormat> Formats = new()
    {
        ["qwen"] = Qwen, ["llama"] = Llama, ["mistral"] = Mistral, ["one-call"] = OneCall, ["plain"] = ToolCallFormat.PlainJson,
    };

    private static readonly string[] Models = ["stories260K", "llama-2-tiny-random"];
    private static readonly uint[] Seeds = [1, 2, 3];

    public static TheoryData<string, bool> FormatCases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var name in Formats.Keys)
        {
            data.Add(name, true);
            data.Add(name, false);
        }
        return data;
    }

    /// <summary>The three shapes of format on both models; the plain and one-call variants on one.</summary>
    public static TheoryData<string, string> GenerationCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var model in Models)
            foreach (var name in new[] { "qwen", "llama", "mistral" })
                data.Add(model, name);
        data.Add("llama-2-tiny-random", "plain");
        data.Add("stories260K", "one-call");
        return data;
    }

    [Theory]
    [MemberData(nameof(FormatCases))]
    public void LlamaCppAcceptsTheGrammar(string format, bool allowText)
    {
        var grammar = ToolCallGrammar.Build(Formats[format], ToolTemplates.Definitions(), allowText, maxCalls: 3);
        output.WriteLine(grammar);
        GrammarAcceptanceTests.AssertMasks(models.Stories.NativeHandle.Vocab, grammar);
        GrammarAcceptanceTests.AssertMasks(models.TinyRandom.NativeHandle.Vocab, grammar);
    }

    /// <summary>Schemas the converter rejects, or that do not describe an object, get any bounded object instead of an error.</summary>
    private const string AwkwardTools = """
        [{"type":"function","function":{"name":"pattern","parameters":{"type":"object","properties":{"s":{"type":"strnig"}}}}},
         {"type":"function","function":{"name":"bare"}},
         {"type":"function","function":{"name":"loose","parameters":{"type":"object"}}},
         {"type":"function","function":{"name":"scalar","parameters":{"type":"string"}}},
         {"type":"function","function":{"name":"recursive","parameters":{"type":"object","properties":{"next":{"$ref":"#"}}}}}]
        """;

    [Fact]
    public void Unenforceable_schemas_fall_back_to_any_object()
    {
        Assert.True(ToolDefinition.TryParseList(JsonDocument.Parse(AwkwardTools).RootElement, out var tools, out _));
        var grammar = ToolCallGrammar.Build(Qwen, tools, allowText: false, maxCalls: 1);
        output.WriteLine(grammar);
        Assert.Contains("call-recursive ::= \"{\\\"name\\\": \\\"recursive\\\", \\\"arguments\\\": \" recursive-arguments \"}\"", grammar);
        Assert.Contains("call-pattern ::= \"{\\\"name\\\": \\\"pattern\\\", \\\"arguments\\\": \" bounded-object \"}\"", grammar);
        GrammarAcceptanceTests.AssertMasks(models.Stories.NativeHandle.Vocab, grammar);
        GrammarAcceptanceTests.AssertMasks(models.TinyRandom.NativeHandle.Vocab, grammar);
        foreach (var seed in Seeds)
        {
            // Any bounded object is finished within a few hundred tokens, which is more than the default cap.
            var result = ConstrainedGeneration.Run(models.Stories, TestModels.Stories260K, grammar, seed, tokenCap: 1500);
            output.WriteLine(result.Text);
            Assert.True(result.Finished);
            var calls = new ToolCallParser(Qwen, tools.Select(t => t.Name)).ParseAll(result.Text, out var content);
            Assert.Equal("", content);
            Assert.NotEmpty(calls);
        }
    }

    [Theory]
    [MemberData(nameof(GenerationCases))]
    public void A_forced_call_is_a_valid_call(string model, string format)
    {
        var grammar = ToolCallGrammar.Build(Formats[format], ToolTemplates.Definitions(), allowText: false, maxCalls: 2);
        var failures = new List<string>();
        foreach (var seed in Seeds)
        {
            var result = ConstrainedGeneration.Run(models.Get(model), GrammarModels.PathOf(model), grammar, seed);
            output.WriteLine($"[{model}] {format} seed {seed}: {result.Text}");
            if (CheckCalls(Formats[format], result, mustCall: true, only: null) is { } failure) failures.Add($"seed {seed}: {failure}: {result.Text}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [InlineData("stories260K")]
    [InlineData("llama-2-tiny-random")]
    public void A_named_function_is_the_only_one_called(string model)
    {
        var tools = ToolTemplates.Definitions();
        var grammar = ToolCallGrammar.Build(Qwen, [tools.Single(t => t.Name == "add")], allowText: false, maxCalls: 3);
        foreach (var seed in Seeds)
        {
            var result = ConstrainedGeneration.Run(models.Get(model), GrammarModels.PathOf(model), grammar, seed);
            output.WriteLine(result.Text);
            Assert.Null(CheckCalls(Qwen, result, mustCall: true, only: "add"));
        }
    }

    [Theory]
    [InlineData("stories260K", "qwen")]
    [InlineData("llama-2-tiny-random", "qwen")]
    [InlineData("stories260K", "llama")]
    [InlineData("llama-2-tiny-random", "llama")]
    public void Free_to_answer_the_output_is_text_or_valid_calls(string model, string format)
    {
        var grammar = ToolCallGrammar.Build(Formats[format], ToolTemplates.Definitions(), allowText: true, maxCalls: 3);
        var trigger = Formats[format].Trigger;
        foreach (var seed in Seeds)
        {
            // The first few tokens show which way the output went; only a call is then generated to its end
            // (text may mention anything later on, and need not end before any cap).
            var start = ConstrainedGeneration.Run(models.Get(model), GrammarModels.PathOf(model), grammar, seed, tokenCap: 8);
            output.WriteLine($"seed {seed}: {start.Text}");
            if (!start.Text.StartsWith(trigger, StringComparison.Ordinal) && !(start.Text.Length < trigger.Length && trigger.StartsWith(start.Text, StringComparison.Ordinal)))
                continue;
            var result = ConstrainedGeneration.Run(models.Get(model), GrammarModels.PathOf(model), grammar, seed);
            Assert.Null(CheckCalls(Formats[format], result, mustCall: true, only: null));
        }
    }

    /// <summary>Once the output begins with the trigger, the text grammar is no longer possible: the rest must be a valid call.</summary>
    [Theory]
    [InlineData("stories260K", "qwen")]
    [InlineData("llama-2-tiny-random", "qwen")]
    [InlineData("stories260K", "llama")]
    [InlineData("llama-2-tiny-random", "llama")]
    public void Starting_a_call_commits_to_a_valid_one(string model, string format)
    {
        var grammar = ToolCallGrammar.Build(Formats[format], ToolTemplates.Definitions(), allowText: true, maxCalls: 3);
        string start = Formats[format].Prefix + Formats[format].NameOpen;
        foreach (var seed in Seeds)
        {
            var text = start + GenerateAfter(models.Get(model), GrammarModels.PathOf(model), grammar, seed, start);
            output.WriteLine($"seed {seed}: {text}");
            Assert.Null(CheckCalls(Formats[format], new ConstrainedGeneration.Result(text, true, 0), mustCall: true, only: null));
        }
    }

    /// <summary>Where a function name begins, every token the grammar leaves possible spells (part of) a known name.</summary>
    [Theory]
    [InlineData("stories260K")]
    [InlineData("llama-2-tiny-random")]
    public void An_unknown_function_cannot_be_sampled(string model)
    {
        var weights = models.Get(model);
        var vocab = weights.NativeHandle.Vocab;
        var grammar = ToolCallGrammar.Build(Qwen, ToolTemplates.Definitions(), allowText: true, maxCalls: 3);
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddGrammar(vocab, grammar, "root");
        foreach (var token in CharTokens(weights, Qwen.Prefix + Qwen.NameOpen)) AcceptChecked(chain, vocab, token);

        string[] names = ["get_weather\"", "add\""];
        var allowed = Allowed(chain, vocab).Select(t => vocab.LLamaTokenToString(t, false) ?? "").ToList();
        output.WriteLine(string.Join(" | ", allowed));
        Assert.NotEmpty(allowed);
        Assert.All(allowed, piece => Assert.True(names.Any(n => n.StartsWith(piece, StringComparison.Ordinal) || piece.StartsWith(n, StringComparison.Ordinal)),
            $"'{piece}' does not spell a known function"));
    }

    /// <summary>Null when the output is nothing but calls of known functions (only <paramref name="only"/>, if given) with valid arguments.</summary>
    private static string? CheckCalls(ToolCallFormat format, ConstrainedGeneration.Result result, bool mustCall, string? only)
    {
        if (!result.Finished) return "hit the token cap";
        var tools = ToolTemplates.Definitions();
        var calls = new ToolCallParser(format, tools.Select(t => t.Name)).ParseAll(result.Text, out var content);
        if (content.Length > 0) return $"content left over: '{content}'";
        if (mustCall && calls.Count == 0) return "no call";
        foreach (var call in calls)
        {
            if (only is not null && call.Name != only) return $"called {call.Name}, not {only}";
            if (tools.All(t => t.Name != call.Name)) return $"unknown function {call.Name}";
            if (new SchemaValidator(ToolTemplates.Schema(call.Name)).Validate(call.Arguments) is { } error) return $"{call.Name}: {error}";
        }
        return null;
    }

    /// <summary>Generation whose output must begin with <paramref name="start"/>: those characters are fed to the grammar and the model first.</summary>
    private static string GenerateAfter(LLamaWeights weights, string path, string grammar, uint seed, string start)
    {
        var vocab = weights.NativeHandle.Vocab;
        using var context = weights.CreateContext(GrammarModels.Params(path));
        using var check = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        check.AddGrammar(vocab, grammar, "root");
        using var chain = SafeLLamaSamplerChainHandle.Create(LLamaSamplerChainParams.Default());
        chain.AddGrammar(vocab, grammar, "root");
        chain.AddTopK(40);
        chain.AddTemperature(0.8f);
        chain.AddDistributionSampler(seed);

        var forced = CharTokens(weights, start);
        foreach (var token in forced)
        {
            AcceptChecked(check, vocab, token);
            chain.Accept(token);
        }
        var tokens = context.NativeHandle.Tokenize("Once upon a time", true, false, Encoding.UTF8).Concat(forced).ToArray();
        var batch = new LLamaBatch();
        var logitsIndex = batch.AddRange(tokens, 0, LLamaSeqId.Zero, true);
        var position = tokens.Length;
        var decoder = new StreamingTokenDecoder(Encoding.UTF8, weights);
        var text = new StringBuilder();
        for (var n = 0; n < ConstrainedGeneration.TokenCap; n++)
        {
            Assert.Equal(DecodeResult.Ok, context.NativeHandle.Decode(batch));
            var token = chain.Sample(context.NativeHandle, logitsIndex);
            if (token.IsEndOfGeneration(vocab)) return text.Append(decoder.Read()).ToString();
            decoder.Add(token);
            text.Append(decoder.Read());
            batch.Clear();
            logitsIndex = batch.AddRange([token], position++, LLamaSeqId.Zero, true);
        }
        throw new Xunit.Sdk.XunitException("hit the token cap: " + text);
    }

    /// <summary>One token per character whose text is exactly that character (byte-level tokens exist in both vocabularies).</summary>
    private static LLamaToken[] CharTokens(LLamaWeights weights, string text)
    {
        var vocab = weights.NativeHandle.Vocab;
        var byText = new Dictionary<string, LLamaToken>();
        for (int i = 0; i < vocab.Count; i++)
        {
            var piece = vocab.LLamaTokenToString(i, false);
            if (piece is { Length: 1 }) byText.TryAdd(piece, i);
        }
        return text.Select(c => byText.TryGetValue(c.ToString(), out var t) ? t : throw new Xunit.Sdk.XunitException($"no token for '{c}'")).ToArray();
    }

    /// <summary>
    /// Accepts a token only after checking the grammar allows it: accepting a token the grammar rejects throws
    /// inside llama.cpp, which would abort the test process instead of failing the test.
    /// </summary>
    private static void AcceptChecked(SafeLLamaSamplerChainHandle grammarOnly, SafeLlamaModelHandle.Vocabulary vocab, LLamaToken token)
    {
        Assert.Contains(token, Allowed(grammarOnly, vocab));
        grammarOnly.Accept(token);
    }

    private static List<LLamaToken> Allowed(SafeLLamaSamplerChainHandle grammarOnly, SafeLlamaModelHandle.Vocabulary vocab)
    {
        var candidates = LLamaTokenDataArray.Create(new float[vocab.Count]);
        using (LLamaTokenDataArrayNative.Create(candidates, out var native))
        {
            grammarOnly.Apply(ref native);
        }
        var allowed = new List<LLamaToken>();
        foreach (var data in candidates.Data.Span)
        {
            if (!float.IsNegativeInfinity(data.Logit)) allowed.Add(data.ID);
        }
        return allowed;
    }
}

internal static class ToolCallParserExtensions
{
    /// <summary>Parses a whole text at once: the calls, and in <paramref name="content"/> everything that was not a call.</summary>
    public static List<ToolCall> ParseAll(this ToolCallParser parser, string text, out string content)
    {
        var first = parser.Add(text);
        var last = parser.Finish();
        content = first.Content + last.Content;
        return [.. first.Calls, .. last.Calls];
    }
}
