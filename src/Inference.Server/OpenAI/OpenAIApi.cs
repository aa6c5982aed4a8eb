using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Inference.Engine.Backend;
using Inference.Engine.Generation;
using Inference.Engine.Models;
using Inference.Engine.Prompting;
using Inference.Engine.Scheduling;
using Inference.Engine.Store;
using Inference.Engine.Tools;
using Inference.Server.Contracts;
using Inference.Server.Generation;
using Inference.Server.Http;
using Microsoft.Extensions.Options;

namespace Inference.Server.OpenAI;

/// <summary>
/// The OpenAI-compatible API (/v1): chat completions, completions and models, over the same
/// scheduler and models as the Ollama routes. Streaming is server-sent events ending with [DONE].
/// </summary>
public static class OpenAIApi
{
    public const string Fingerprint = "fp_inference";

    public static IEndpointRouteBuilder MapOpenAIApi(this IEndpointRouteBuilder app)
    {
        var v1 = app.MapGroup("/v1").WithTags("OpenAI").WithEngineErrors(OpenAIErrors.Shape);
        v1.MapPost("/chat/completions", ChatAsync).DocumentsJsonBody<ChatCompletionRequest>()
            .Produces<ChatCompletion>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<OpenAIError>(StatusCodes.Status400BadRequest).Produces<OpenAIError>(StatusCodes.Status404NotFound)
            .WithSummary("Create a chat completion");
        v1.MapPost("/completions", CompleteAsync).DocumentsJsonBody<CompletionRequest>()
            .Produces<Completion>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<OpenAIError>(StatusCodes.Status400BadRequest).Produces<OpenAIError>(StatusCodes.Status404NotFound)
            .WithSummary("Create a completion");
        v1.MapPost("/embeddings", EmbeddingsAsync).DocumentsJsonBody<EmbeddingsRequest>()
            .Produces<EmbeddingList>().Produces<OpenAIError>(StatusCodes.Status400BadRequest).Produces<OpenAIError>(StatusCodes.Status404NotFound)
            .WithSummary("Create embeddings");
        v1.MapGet("/models", ListModels).Produces<ModelList>().WithSummary("List models");
        v1.MapGet("/models/{*model}", GetModel).Produces<OpenAIModel>().Produces<OpenAIError>(StatusCodes.Status404NotFound)
            .WithSummary("Retrieve a model");
        return app;
    }

    private static IResult Error(int status, string message, string? param = null, string? code = null) =>
        OpenAIErrors.Error(status, message, param, code);

    /// <summary>OpenAI's sampling fields as our options; null error when all are usable.</summary>
    private static (ModelOptions Options, IResult? Error) ReadOptions(OpenAISamplingRequest req, int? maxTokens)
    {
        if (req.N is < 1 or > OpenAIChoices.MaxChoices) return (new(), Error(400, $"n must be between 1 and {OpenAIChoices.MaxChoices}", "n"));
        string[]? stop = null;
        switch (req.Stop)
        {
            case { ValueKind: JsonValueKind.String } s:
                stop = [s.GetString()!];
                break;
            case { ValueKind: JsonValueKind.Array } a when a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String):
                stop = a.EnumerateArray().Select(e => e.GetString()!).ToArray();
                break;
            case null or { ValueKind: JsonValueKind.Null }:
                break;
            default:
                return (new(), Error(400, "stop must be a string or an array of strings", "stop"));
        }
        var options = new ModelOptions
        {
            Temperature = req.Temperature,
            TopP = req.TopP,
            Seed = req.Seed,
            NumPredict = maxTokens,
            Stop = stop,
            FrequencyPenalty = req.FrequencyPenalty,
            PresencePenalty = req.PresencePenalty,
            CloseJson = req.CloseJson,
        };
        if (maxTokens is < 1) return (options, Error(400, "max_tokens must be at least 1", "max_tokens"));
        if (options.Validate() is not { } invalid) return (options, null);
        // The same bounds as every API (ModelOptions.Validate), named as this request named the field.
        var field = invalid.Field == "num_predict" ? (req is ChatCompletionRequest { MaxCompletionTokens: not null } ? "max_completion_tokens" : "max_tokens") : invalid.Field;
        return (options, Error(400, $"{field} {invalid.Problem}", field));
    }

    private static string? Text(JsonElement? content, out string? error)
    {
        error = null;
        switch (content)
        {
            case null or { ValueKind: JsonValueKind.Null }:
                return "";
            case { ValueKind: JsonValueKind.String } s:
                return s.GetString();
            case { ValueKind: JsonValueKind.Array } parts:
                var text = new StringBuilder();
                foreach (var part in parts.EnumerateArray())
                {
                    if (part.TryGetProperty("type", out var type) && type.GetString() == "text" && part.TryGetProperty("text", out var t))
                        text.Append(t.GetString());
                    else
                    {
                        error = "only text content parts are supported";
                        return null;
                    }
                }
                return text.ToString();
            default:
                error = "content must be a string or an array of content parts";
                return null;
        }
    }

    private static async Task<IResult> ChatAsync(HttpContext http, ModelCatalog catalog, GenerationPipeline pipeline, IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OpenAIJsonContext.Wire.ChatCompletionRequest, http.RequestAborted);
        if (req is null) return Error(400, bodyError!);
        if (req.Messages is not { Length: > 0 }) return Error(400, "messages must be a non-empty array", "messages");
        if (!ToolDefinition.TryParseList(req.Tools, out var tools, out var toolsError)) return Error(400, toolsError!.Message, toolsError.Param);
        if (!OpenAITools.TryReadChoice(req.ToolChoice, req.ParallelToolCalls, tools, out var choice, out var choiceError))
            return Error(400, choiceError!.Message, choiceError.Param);
        if (!StructuredOutput.TryFromResponseFormat(req.ResponseFormat, out var grammar, out var formatError))
            return Error(400, formatError!, "response_format");
        if (!RawGrammar.TryRead(req.Grammar, RawGrammar.Set(("response_format", grammar is not null), ("tools", tools.Count > 0)), out var raw, out var grammarError))
            return Error(400, grammarError!, "grammar");
        if (!ThinkOption.TryFromReasoningEffort(req.Reasoning, req.ReasoningEffort, out var think, out var thinkError, out var thinkParam))
            return Error(400, thinkError!, thinkParam);
        grammar ??= raw;

        var messages = new List<ChatMessage>();
        for (int i = 0; i < req.Messages.Length; i++)
        {
            var m = req.Messages[i];
            var role = m?.Role == "developer" ? "system" : m?.Role;
            if (role is null || !ChatMessage.KnownRoles.Contains(role)) return Error(400, $"invalid role '{m?.Role}' in messages[{i}]", $"messages[{i}].role");
            if (Text(m!.Content, out var contentError) is not { } text) return Error(400, contentError!, $"messages[{i}].content");
            if (!ToolCall.TryParseList(m.ToolCalls, $"messages[{i}].tool_calls", out var calls, out var callsError))
                return Error(400, callsError!.Message, callsError.Param);
            if (role == "tool" && string.IsNullOrEmpty(m.ToolCallId))
                return Error(400, $"messages[{i}].tool_call_id is required for tool messages", $"messages[{i}].tool_call_id");
            messages.Add(new ChatMessage(role, text)
            {
                ToolCalls = calls, ToolCallId = m.ToolCallId, ToolName = role == "tool" ? OpenAITools.ToolNameFor(m, messages) : null,
                Thinking = m.Reasoning ?? m.ReasoningContent,
            });
        }
        var model = ModelLookup.Resolve(req.Model, catalog);
        var (options, optionsError) = ReadOptions(req, req.MaxCompletionTokens ?? req.MaxTokens);
        if (optionsError is not null) return optionsError;
        // tool_choice "none" leaves the tools out altogether.
        var toolSetup = choice is not null && tools.Count > 0 ? ToolSetup.For(model, tools, choice) : null;
        think = ThinkingSetup.Resolve(model, req.Model!, think);

        if (req.TopLogprobs is < 0 or > GenerationRequest.MaxTopLogprobs)
            return Error(400, $"top_logprobs must be between 0 and {GenerationRequest.MaxTopLogprobs}", "top_logprobs");
        int? top = req.Logprobs is { ValueKind: JsonValueKind.True } ? req.TopLogprobs ?? 0 : null;
        // A forced call has no text for response_format to shape; otherwise response_format constrains the
        // whole output and calls are only read out of it.
        bool forced = choice?.Forced == true && toolSetup is not null;
        var input = new GenerationInput
        {
            Model = model, Messages = PromptBuilder.Conversation(model, messages), Options = options, TopLogprobs = top,
            Tools = toolSetup?.Tools,
            Think = think,
            Grammar = forced ? toolSetup!.Grammar : grammar ?? toolSetup?.Grammar,
            GrammarTrigger = forced || grammar is not null ? null : toolSetup?.GrammarTrigger,
        };
        string id = "chatcmpl-" + RandomId(), name = req.Model!;
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var origin = GenerationOrigin.Of(http, started);
        await using var runs = await OpenAIChoices.StartAsync(pipeline, input, req.N ?? 1, engine.Value.KeepAlive, origin,
            () => toolSetup?.CreateParser(), http.RequestAborted);
        if (req.Stream == true)
        {
            await runs.StreamAsync(http.Response, i => new ChatChunks(id, created, name, i), OpenAIJsonContext.Wire.ChatCompletionChunk,
                req.StreamOptions?.IncludeUsage == true);
            return Results.Empty;
        }
        var choices = await runs.CollectAsync();
        return TypedResults.Json(new ChatCompletion
        {
            Id = id, Created = created, Model = name, Usage = OpenAIChoices.UsageOf([.. choices.Select(c => c.Outcome)]),
            Choices = [.. choices.Select((whole, i) => new ChatChoice(i,
                new AssistantMessage("assistant", whole.Calls.Count > 0 && whole.Text.Length == 0 ? null : whole.Text)
                    {
                        ToolCalls = OpenAITools.ToWire(whole.Calls, streamed: false),
                        ReasoningContent = whole.Thinking is { Length: > 0 } ? whole.Thinking : null,
                        Reasoning = whole.Thinking is { Length: > 0 } ? whole.Thinking : null,
                    },
                whole.Outcome.FinishReason, top is null ? null : new ChoiceLogprobs(LogprobDto.From(whole.Logprobs)!)))],
        }, OpenAIJsonContext.Wire.ChatCompletion);
    }

    private static async Task<IResult> CompleteAsync(HttpContext http, ModelCatalog catalog, GenerationPipeline pipeline, IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OpenAIJsonContext.Wire.CompletionRequest, http.RequestAborted);
        if (req is null) return Error(400, bodyError!);
        string? prompt = req.Prompt switch
        {
            { ValueKind: JsonValueKind.String } s => s.GetString(),
            { ValueKind: JsonValueKind.Array } a when a.GetArrayLength() == 1 && a[0].ValueKind == JsonValueKind.String => a[0].GetString(),
            _ => null,
        };
        if (prompt is null) return Error(400, "prompt must be a string (or an array of one string)", "prompt");
        // The legacy field: how many alternatives to list per token (0 = only the sampled tokens).
        int? logprobs = null;
        if (req.Logprobs is { ValueKind: not (JsonValueKind.Null or JsonValueKind.False) } asked)
        {
            if (asked.ValueKind != JsonValueKind.Number || !asked.TryGetInt32(out int count) || count is < 0 or > LegacyLogprobs.MaxAlternatives)
                return Error(400, $"logprobs must be an integer between 0 and {LegacyLogprobs.MaxAlternatives}", "logprobs");
            logprobs = count;
        }
        var model = ModelLookup.Resolve(req.Model, catalog);
        var (options, optionsError) = ReadOptions(req, req.MaxTokens);
        if (optionsError is not null) return optionsError;
        if (!RawGrammar.TryRead(req.Grammar, [], out var grammar, out var grammarError)) return Error(400, grammarError!, "grammar");

        var input = new GenerationInput { Model = model, RawPrompt = prompt, Suffix = req.Suffix, Options = options, TopLogprobs = logprobs, Grammar = grammar };
        string id = "cmpl-" + RandomId(), name = req.Model!;
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await using var runs = await OpenAIChoices.StartAsync(pipeline, input, req.N ?? 1, engine.Value.KeepAlive, GenerationOrigin.Of(http, started),
            () => null, http.RequestAborted);
        // One per choice: each continues its own text offsets.
        var chunks = Enumerable.Range(0, req.N ?? 1).Select(i => new CompletionChunks(id, created, name, i, logprobs is not null)).ToArray();
        if (req.Stream == true)
        {
            await runs.StreamAsync(http.Response, i => chunks[i], OpenAIJsonContext.Wire.Completion, req.StreamOptions?.IncludeUsage == true);
            return Results.Empty;
        }
        var choices = await runs.CollectAsync();
        return TypedResults.Json(chunks[0].Whole(choices, i => chunks[i], OpenAIChoices.UsageOf([.. choices.Select(c => c.Outcome)])),
            OpenAIJsonContext.Wire.Completion);
    }

    private static async Task<IResult> EmbeddingsAsync(HttpContext http, ModelCatalog catalog, EmbeddingService embeddings, IOptions<EngineOptions> engine)
    {
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, OpenAIJsonContext.Wire.EmbeddingsRequest, http.RequestAborted);
        if (req is null) return Error(400, bodyError!);
        List<string>? inputs = req.Input switch
        {
            { ValueKind: JsonValueKind.String } s => [s.GetString()!],
            { ValueKind: JsonValueKind.Array } a when a.GetArrayLength() > 0 && a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) =>
                a.EnumerateArray().Select(e => e.GetString()!).ToList(),
            _ => null,
        };
        if (inputs is null || inputs.Any(i => i.Length == 0)) return Error(400, "input must be a non-empty string or an array of non-empty strings", "input");
        if (inputs.Count > EmbeddingService.MaxInputs) return Error(400, $"input must hold at most {EmbeddingService.MaxInputs} strings", "input");
        if (req.EncodingFormat is not (null or "float" or "base64")) return Error(400, "encoding_format must be float or base64", "encoding_format");
        if (req.Dimensions is < 1) return Error(400, "dimensions must be a positive number", "dimensions");
        var model = ModelLookup.Resolve(req.Model, catalog);
        var result = await embeddings.EmbedAsync(model, inputs, truncate: true, req.Dimensions, new ModelOptions(), engine.Value.KeepAlive, http.RequestAborted);
        var data = result.Vectors.Select((v, i) => new EmbeddingData("embedding", i, req.EncodingFormat == "base64"
            ? JsonSerializer.SerializeToElement(Convert.ToBase64String(System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan())), OpenAIJsonContext.Wire.String)
            : JsonSerializer.SerializeToElement(v, OpenAIJsonContext.Wire.SingleArray))).ToList();
        return TypedResults.Json(new EmbeddingList("list", data, req.Model!, new EmbeddingUsage(result.PromptTokens, result.PromptTokens)),
            OpenAIJsonContext.Wire.EmbeddingList);
    }

    private static IResult ListModels(ModelCatalog catalog) =>
        TypedResults.Json(new ModelList("list", catalog.Store.List()
            .Select(m => new OpenAIModel(m.Name.DisplayShortest(), "model", m.ModifiedAt.ToUnixTimeSeconds(), m.Name.Namespace))
            .ToList()), OpenAIJsonContext.Wire.ModelList);

    private static IResult GetModel(string model, ModelCatalog catalog)
    {
        if (ModelName.TryParse(model, out var name, out _) && ModelLookup.Read(model, "used", () => catalog.Store.Get(name)) is { } stored)
            return TypedResults.Json(new OpenAIModel(model, "model", stored.ModifiedAt.ToUnixTimeSeconds(), name.Namespace), OpenAIJsonContext.Wire.OpenAIModel);
        return Error(404, $"model \"{Echo.Bounded(model)}\" not found", "model", "model_not_found");
    }

    private static string RandomId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
