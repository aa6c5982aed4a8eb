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
using Inference.Server.OpenAI;
using Microsoft.Extensions.Options;

namespace Inference.Server.Responses;

/// <summary>
/// OpenAI's Responses API (POST /v1/responses) in its stateless form, as Ollama provides it: the whole
/// conversation comes in each request (input items, instructions), nothing is stored, so previous_response_id,
/// store: true, conversation and background are refused. Errors are OpenAI's error object, as on the other /v1 routes.
/// </summary>
public static class ResponsesApi
{
    private const string Stateless = "this server keeps no responses (the Responses API is stateless here): send the whole conversation as input";

    public static IEndpointRouteBuilder MapResponsesApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/v1").WithTags("OpenAI").WithEngineErrors(OpenAIErrors.Shape)
            .MapPost("/responses", CreateAsync).DocumentsJsonBody<ResponsesRequest>()
            .Produces<ResponseObject>(StatusCodes.Status200OK, "application/json", "text/event-stream")
            .Produces<OpenAIError>(StatusCodes.Status400BadRequest).Produces<OpenAIError>(StatusCodes.Status404NotFound)
            .WithSummary("Create a model response (stateless)");
        return app;
    }

    private static IResult Error(string message, string? param) => OpenAIErrors.Error(StatusCodes.Status400BadRequest, message, param);

    private static async Task<IResult> CreateAsync(HttpContext http, ModelCatalog catalog, GenerationPipeline pipeline, IOptions<EngineOptions> engine)
    {
        long started = Stopwatch.GetTimestamp();
        var (req, bodyError) = await JsonBody.ReadAsync(http.Request, ResponsesJsonContext.Wire.ResponsesRequest, http.RequestAborted);
        if (req is null) return Error(bodyError!, null);
        if (req.PreviousResponseId is not null) return Error("previous_response_id is not supported: " + Stateless, "previous_response_id");
        if (req.Store == true) return Error("store must be false: " + Stateless, "store");
        if (req.Conversation is { ValueKind: not JsonValueKind.Null }) return Error("conversation is not supported: " + Stateless, "conversation");
        if (req.Background == true) return Error("background is not supported: " + Stateless, "background");
        if (!ResponsesInput.TryRead(req.Input, out var turns, out var error)
            || !ResponsesInput.TryReadTools(req.Tools, out var tools, out error)
            || !OpenAITools.TryReadChoice(req.ToolChoice, req.ParallelToolCalls, tools, OpenAITools.NamedFunction.Flat, out var choice, out error))
            return Error(error!.Message, error.Param);
        if (!ThinkOption.TryFromReasoningEffort(req.Reasoning, null, out var think, out var thinkError, out var thinkParam))
            return Error(thinkError!, thinkParam);
        if (!StructuredOutput.TryFromTextFormat(req.Text?.Format, out var grammar, out var formatError)) return Error(formatError!, "text.format");
        if (req.MaxOutputTokens is < 1) return Error("max_output_tokens must be at least 1", "max_output_tokens");
        var options = new ModelOptions { NumPredict = req.MaxOutputTokens, Temperature = req.Temperature, TopP = req.TopP };
        if (options.Validate() is { } invalid) return Error($"{invalid.Field} {invalid.Problem}", invalid.Field);

        var model = ModelLookup.Resolve(req.Model, catalog);
        if (req.Instructions is { Length: > 0 } instructions) turns.Insert(0, new ChatMessage("system", instructions));
        // tool_choice "none" leaves the tools out altogether.
        var toolSetup = choice is not null && tools.Count > 0 ? ToolSetup.For(model, tools, choice) : null;
        think = ThinkingSetup.Resolve(model, req.Model!, think);
        // As on chat completions: a forced call has no text for text.format to shape; otherwise the format constrains
        // the whole output and calls are only read out of it.
        bool forced = choice?.Forced == true && toolSetup is not null;
        var input = new GenerationInput
        {
            Model = model, Messages = PromptBuilder.Conversation(model, turns), Options = options, Tools = toolSetup?.Tools, Think = think,
            Grammar = forced ? toolSetup!.Grammar : grammar ?? toolSetup?.Grammar,
            GrammarTrigger = forced || grammar is not null ? null : toolSetup?.GrammarTrigger,
        };
        var shell = new ResponseObject
        {
            Id = NewId("resp_"), CreatedAt = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), Status = "in_progress", Model = req.Model!, Output = [],
            Instructions = req.Instructions, MaxOutputTokens = req.MaxOutputTokens, Temperature = req.Temperature, TopP = req.TopP,
            Tools = req.Tools ?? EmptyArray, ToolChoice = req.ToolChoice ?? Auto, ParallelToolCalls = req.ParallelToolCalls ?? true,
            Text = req.Text ?? new TextOptions { Format = TextFormat }, Reasoning = req.Reasoning is { ValueKind: JsonValueKind.Object } r ? r : null,
        };
        await using var run = await pipeline.StartAsync(input, engine.Value.KeepAlive, GenerationOrigin.Of(http, started), toolSetup?.CreateParser(),
            http.RequestAborted);
        if (req.Stream == true)
        {
            ServerSentEvents.Start(http.Response);
            var events = new ResponsesEventStream(http.Response, shell);
            await events.StartAsync(http.RequestAborted);
            await run.StreamAsync(events, http.RequestAborted);
            return Results.Empty;
        }
        var whole = await run.CollectAsync(http.RequestAborted);
        var final = Finished(shell, whole.Outcome);
        var output = new List<OutputItem>();
        if (whole.Thinking is { Length: > 0 } thinking) output.Add(ResponsesReasoning.Item(NewId("rs_"), thinking));
        if (whole.Text.Length > 0 || whole.Calls.Count == 0) output.Add(Message(NewId("msg_"), whole.Text, final.Status));
        output.AddRange(whole.Calls.Select(FunctionCall));
        return TypedResults.Json(final with { Output = output }, ResponsesJsonContext.Wire.ResponseObject);
    }

    private static readonly JsonElement EmptyArray = JsonDocument.Parse("[]").RootElement.Clone();
    private static readonly JsonElement Auto = JsonDocument.Parse("\"auto\"").RootElement.Clone();
    private static readonly JsonElement TextFormat = JsonDocument.Parse("""{"type":"text"}""").RootElement.Clone();

    /// <summary>
    /// The response once generated: "completed", or "incomplete" with reason max_output_tokens when the budget cut it.
    /// Usage counts cached tokens inside input_tokens and reports them separately, as OpenAI does.
    /// </summary>
    internal static ResponseObject Finished(ResponseObject shell, GenerationOutcome done)
    {
        bool cut = done.EngineReason == FinishReason.Length;
        int input = done.PromptEvalCount + done.CachedPromptCount;
        return shell with
        {
            Status = cut ? "incomplete" : "completed", IncompleteDetails = cut ? new IncompleteDetails("max_output_tokens") : null,
            Usage = new ResponseUsage(input, new InputTokensDetails(done.CachedPromptCount), done.EvalCount, new OutputTokensDetails(0), input + done.EvalCount),
        };
    }

    internal static OutputItem Message(string id, string text, string status) =>
        new("message", id) { Status = status, Role = "assistant", Content = [new OutputText(text)] };

    internal static OutputItem FunctionCall(ToolCall call) => new("function_call", NewId("fc_"))
    {
        Status = "completed", CallId = call.Id ?? ToolCall.NewId(), Name = call.Name,
        Arguments = JsonSerializer.Serialize(call.Arguments, ResponsesJsonContext.Wire.JsonElement),
    };

    internal static string NewId(string prefix) => prefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
}
