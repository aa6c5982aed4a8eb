using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Scheduling;
using Inference.Server.Generation;

namespace Inference.Server.Platform.Sql;

/// <summary>The model as the SQL assistant uses it for one request: its tokenizer (for the prompt budget) and grammar-constrained completions.</summary>
public interface ISqlAssistantModel
{
    string Name { get; }

    /// <summary>Tokens the model's context holds (prompt and answer together).</summary>
    int ContextLength { get; }

    int CountTokens(string text);

    /// <summary>The whole answer, which the grammar guarantees to be complete JSON (closed early when its token budget runs out).</summary>
    Task<string> CompleteAsync(SqlPrompt prompt, SqlAnswerGrammar grammar, float temperature, CancellationToken ct);
}

/// <summary>
/// The engine's model for one request. It holds a lease from acquisition to disposal, so the model
/// that counted the prompt's tokens is the one that generates (generations take their own leases
/// on the same loaded model). Token counts come from the model's own tokenizer: the budget is exact
/// for whichever model answers, which no external tokenizer could promise for every GGUF vocabulary.
/// </summary>
public sealed class SqlAssistantEngineModel : ISqlAssistantModel, IAsyncDisposable
{
    private readonly GenerationPipeline _pipeline;
    private readonly GenerationOrigin _origin;
    private readonly ModelDefinition _model;
    private readonly ModelLease _lease;
    private readonly TimeSpan _keepAlive;
    private readonly int _answerTokenLimit;

    private SqlAssistantEngineModel(GenerationPipeline pipeline, GenerationOrigin origin, ModelDefinition model, ModelLease lease, TimeSpan keepAlive,
        int answerTokenLimit)
    {
        _pipeline = pipeline;
        _origin = origin;
        _model = model;
        _lease = lease;
        _keepAlive = keepAlive;
        _answerTokenLimit = answerTokenLimit;
    }

    /// <param name="answerTokenLimit">Caps each answer's tokens below the grammar's bound (0 = no cap; see PlatformOptions.SqlAnswerTokenLimit).</param>
    /// <param name="origin">The request the answers are for (its route and start, for the pipeline's metrics and log line).</param>
    public static async Task<SqlAssistantEngineModel> OpenAsync(GenerationService generation, GenerationPipeline pipeline, GenerationOrigin origin,
        ModelDefinition model, TimeSpan keepAlive, CancellationToken ct, int answerTokenLimit = 0)
    {
        // The same load settings a generation with these options asks for, so both share one loaded model.
        var lease = await generation.AcquireAsync(model, Options(0f, null).Over(model.Parameters), ct);
        return new SqlAssistantEngineModel(pipeline, origin, model, lease, keepAlive, answerTokenLimit);
    }

    public string Name => _model.DisplayName;

    public int ContextLength => _lease.Runner.Settings.ContextLength;

    public int CountTokens(string text) => _lease.Runner.Tokenize(text, false, false).Length;

    public async Task<string> CompleteAsync(SqlPrompt prompt, SqlAnswerGrammar grammar, float temperature, CancellationToken ct)
    {
        var input = new GenerationInput
        {
            Model = _model,
            Messages = PromptBuilder.Conversation(_model, [new ChatMessage("user", prompt.User)], prompt.System),
            Options = Options(temperature, _answerTokenLimit > 0 ? Math.Min(grammar.MaxTokens, _answerTokenLimit) : grammar.MaxTokens),
            Grammar = grammar.Gbnf,
        };
        await using var run = await _pipeline.StartAsync(input, _keepAlive, _origin, tools: null, ct);
        var result = await run.CollectAsync(ct);
        // A budget that runs out (the context, or a cap) closes the answer by its grammar: still complete JSON.
        if (result.Outcome.EngineReason is not (FinishReason.Stop or FinishReason.Length))
            throw new GenerationFailedException($"the generation ended before the answer was complete ({result.Outcome.EngineReason})");
        return result.Text;
    }

    /// <summary>
    /// No stop strings (a model's own could cut the JSON), no repeat penalty (SQL repeats names by
    /// nature) and a fixed seed, so the same request gets the same answer.
    /// </summary>
    private static ModelOptions Options(float temperature, int? maxTokens) => new()
    {
        Temperature = temperature,
        RepeatPenalty = 1f,
        Seed = 42,
        NumPredict = maxTokens,
        Stop = [],
    };

    public ValueTask DisposeAsync() => new(_lease.ReleaseAsync(_keepAlive));
}
