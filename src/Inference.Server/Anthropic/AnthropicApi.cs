using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Scheduling;
using Inference.Engine.Tools;
using Inference.Server.Generation;
using Inference.Server.Http;
using Microsoft.Extensions.Options;

namespace Inference.Server.Anthropic;

/// <summary>
/// Anthropic's Messages API (POST /v1/messages) over the same pipeline as the other APIs, so Anthropic SDK
/// clients work: text, system, tool use, stop sequences, streaming. The x-api-key and anthropic-version headers
/// are accepted and not needed; authentication is that of the OpenAI routes.
/// </summary>
public static class AnthropicApi
{
    public static IEndpointRouteBuilder MapAnthropicApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("Anthropic").WithEngineErrors(AnthropicErrors.Shape)
            .MapPost("/messages", MessagesAsync).DocumentsJsonBody<MessagesRequest>()
            .Produces<MessageResponse>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<AnthropicError>(StatusCodes.Status400BadRequest).Produces<AnthropicError>(StatusCodes.Status404NotFound)
            .WithSummary("Create a message (Anthropic Messages API)");
        return app;
    }

    internal static JsonElement EmptyInput { get; } = JsonDocument.Parse("{}").RootElement.Clone();

    private static IResult Error(string message) => AnthropicErrors.Error(StatusCodes.Status400BadRequest, message);

    private static async Task<IResult> MessagesAsync(HttpContext http, ModelCatalog catalog, GenerationPipeline pipeline, IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, AnthropicJsonContext.Wire.MessagesRequest, http.RequestAborted);
        if (req is null) return Error(bodyError!);
        if (req.MaxTokens is null) return Error("max_tokens: Field required");
        if (req.MaxTokens < 1) return Error("max_tokens: must be at least 1");
        if (req.Messages is not { Length: > 0 }) return Error("messages: must be a non-empty array");
        if (req.TopK is < 0) return Error("top_k: must be 0 or more");
        if (!AnthropicMessages.TryReadSystem(req.System, out var system, out var error)) return Error(error!);
        if (!AnthropicMessages.TryRead(req.Messages, out var turns, out error)) return Error(error!);
        if (!AnthropicMessages.TryReadTools(req.Tools, out var tools, out error)) return Error(error!);
        if (!AnthropicMessages.TryReadChoice(req.ToolChoice, tools, out var choice, out error)) return Error(error!);
        if (!AnthropicThinking.TryRead(req.Thinking, req.OutputConfig, out var think, out error)) return Error(error!);
        var options = new ModelOptions
        {
            NumPredict = req.MaxTokens, Temperature = req.Temperature, TopP = req.TopP, TopK = req.TopK, Stop = req.StopSequences,
        };
        if (options.Validate() is { } invalid)
        {
            var field = invalid.Field switch { "num_predict" => "max_tokens", "stop" => "stop_sequences", var f => f };
            return Error($"{field}: {invalid.Problem}");
        }

        var model = ModelLookup.Resolve(req.Model, catalog);
        if (system is { Length: > 0 }) turns.Insert(0, new ChatMessage("system", system));
        // tool_choice "none" leaves the tools out altogether.
        var toolSetup = choice is not null && tools.Count > 0 ? ToolSetup.For(model, tools, choice) : null;
        think = ThinkingSetup.Resolve(model, req.Model!, think);
        var input = new GenerationInput
        {
            Model = model, Messages = PromptBuilder.Conversation(model, turns), Options = options, Tools = toolSetup?.Tools, Think = think,
            Grammar = toolSetup?.Grammar, GrammarTrigger = toolSetup?.GrammarTrigger,
        };
        string id = "msg_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)), name = req.Model!;
        await using var run = await pipeline.StartAsync(input, engine.Value.KeepAlive, GenerationOrigin.Of(http, started), toolSetup?.CreateParser(),
            http.RequestAborted);
        if (req.Stream == true)
        {
            ServerSentEvents.Start(http.Response);
            var events = new AnthropicEventStream(http.Response, id, name, req.StopSequences);
            await events.StartAsync(run.PromptTokens, http.RequestAborted);
            await run.StreamAsync(events, http.RequestAborted);
            return Results.Empty;
        }
        var whole = await run.CollectAsync(http.RequestAborted);
        var content = new List<ContentBlock>();
        // Reasoning first, as Anthropic orders blocks; an empty text block only when there is nothing else.
        if (whole.Thinking is { Length: > 0 } thinking) content.Add(ContentBlock.OfThinking(thinking));
        if (whole.Text.Length > 0 || (whole.Calls.Count == 0 && content.Count == 0)) content.Add(ContentBlock.OfText(whole.Text));
        content.AddRange(whole.Calls.Select(ToolUse));
        var (reason, sequence) = StopReason(whole.Outcome, req.StopSequences);
        return TypedResults.Json(new MessageResponse
        {
            Id = id, Model = name, Content = content, StopReason = reason, StopSequence = sequence, Usage = UsageOf(whole.Outcome),
        }, AnthropicJsonContext.Wire.MessageResponse);
    }

    /// <summary>
    /// Anthropic's stop_reason: max_tokens when the budget ran out, tool_use when the model called tools,
    /// stop_sequence (naming it) when one of the request's stop_sequences ended it, else end_turn.
    /// </summary>
    internal static (string Reason, string? Sequence) StopReason(GenerationOutcome outcome, IReadOnlyList<string>? stopSequences) =>
        outcome.EngineReason == FinishReason.Length ? ("max_tokens", null)
        : outcome.FinishReason == "tool_calls" ? ("tool_use", null)
        : outcome.StopSequence is { } s && stopSequences?.Contains(s) == true ? ("stop_sequence", s)
        : ("end_turn", null);

    /// <summary>input_tokens is the whole prompt (evaluated plus reused from the cache); output_tokens the generated tokens.</summary>
    internal static AnthropicUsage UsageOf(GenerationOutcome done) => new(done.PromptEvalCount + done.CachedPromptCount, done.EvalCount);

    /// <summary>A call as a tool_use block; ids take Anthropic's "toolu_" prefix.</summary>
    internal static ContentBlock ToolUse(ToolCall call) => new("tool_use")
    {
        Id = "toolu_" + (call.Id ?? ToolCall.NewId()).Replace("call_", "", StringComparison.Ordinal), Name = call.Name, Input = call.Arguments,
    };
}
