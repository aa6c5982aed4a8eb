using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Engine.Models;
using Inference.Server.Contracts;

namespace Inference.Server.Ollama;

/// <summary>
/// Examples for the OpenAPI document, made from real contract objects and serialized by the same
/// JSON context the routes use, so they always match what goes over the wire.
/// </summary>
public static class OllamaExamples
{
    private static readonly DateTimeOffset Created = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);

    private static readonly ModelDetails Details = new()
    {
        Family = "llama", Families = ["llama"], ParameterSize = "1.2B", QuantizationLevel = "Q4_K_M",
    };

    private static readonly Dictionary<Type, Func<JsonNode?>> Examples = new()
    {
        [typeof(GenerateRequest)] = () => Node(new GenerateRequest
        {
            Model = "llama3.2:1b", Prompt = "Why is the sky blue?", Stream = false,
            Options = new ModelOptions { Temperature = 0.7f, NumPredict = 128, Stop = ["\n\n"] },
        }, OllamaJsonContext.Wire.GenerateRequest),
        [typeof(GenerateResponse)] = () => Node(new GenerateResponse
        {
            Model = "llama3.2:1b", CreatedAt = Created, Response = "Because air scatters blue light more than red.", Done = true,
            DoneReason = "stop", TotalDuration = 1_204_000_000, LoadDuration = 3_000_000, PromptEvalCount = 12,
            PromptEvalDuration = 95_000_000, EvalCount = 14, EvalDuration = 1_100_000_000,
            Context = [1, 3750, 338, 278, 14744, 7254, 29973, 13, 13, 29933, 5658, 4799],
        }, OllamaJsonContext.Wire.GenerateResponse),
        [typeof(ChatRequest)] = () => Node(new ChatRequest
        {
            Model = "llama3.2:1b", Stream = false,
            Messages = [new ChatMessageDto { Role = "system", Content = "Answer briefly." }, new ChatMessageDto { Role = "user", Content = "Hello!" }],
        }, OllamaJsonContext.Wire.ChatRequest),
        [typeof(ChatResponse)] = () => Node(new ChatResponse
        {
            Model = "llama3.2:1b", CreatedAt = Created, Message = new("assistant", "Hi! How can I help?"), Done = true,
            DoneReason = "stop", TotalDuration = 640_000_000, LoadDuration = 2_000_000, PromptEvalCount = 20,
            PromptEvalDuration = 120_000_000, EvalCount = 7, EvalDuration = 500_000_000,
        }, OllamaJsonContext.Wire.ChatResponse),
        [typeof(TagsResponse)] = () => Node(new TagsResponse([new ListedModel
        {
            Name = "llama3.2:1b", Model = "llama3.2:1b", ModifiedAt = Created, Size = 807_694_464,
            Digest = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72", Details = Details,
        }]), OllamaJsonContext.Wire.TagsResponse),
        [typeof(PsResponse)] = () => Node(new PsResponse([new RunningModel
        {
            Name = "llama3.2:1b", Model = "llama3.2:1b", Size = 1_344_000_000, SizeVram = 0, ContextLength = 2048,
            Digest = "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72", Details = Details,
            ExpiresAt = Created.AddMinutes(5),
        }]), OllamaJsonContext.Wire.PsResponse),
        [typeof(ShowRequest)] = () => Node(new ShowRequest { Model = "llama3.2:1b" }, OllamaJsonContext.Wire.ShowRequest),
        [typeof(CreateRequest)] = () => Node(new CreateRequest
        {
            Model = "stories:260k", From = "/models/stories260K.gguf", System = "You tell short stories.",
            Parameters = JsonSerializer.SerializeToElement(new ModelOptions { Temperature = 0.7f }, Inference.Engine.EngineJson.ModelOptions),
        }, OllamaJsonContext.Wire.CreateRequest),
        [typeof(CopyRequest)] = () => Node(new CopyRequest { Source = "llama3.2:1b", Destination = "llama3.2:backup" }, OllamaJsonContext.Wire.CopyRequest),
        [typeof(DeleteRequest)] = () => Node(new DeleteRequest { Model = "llama3.2:backup" }, OllamaJsonContext.Wire.DeleteRequest),
        [typeof(StatusResponse)] = () => Node(new StatusResponse("success"), OllamaJsonContext.Wire.StatusResponse),
        [typeof(ErrorResponse)] = () => Node(new ErrorResponse("model 'llama3.2:1b' not found"), SharedJsonContext.Wire.ErrorResponse),
        [typeof(VersionResponse)] = () => Node(new VersionResponse(OllamaModelApi.CompatibleVersion), OllamaJsonContext.Wire.VersionResponse),
    };

    public static JsonNode? For(Type type) => Examples.TryGetValue(type, out var make) ? make() : null;

    private static JsonNode? Node<T>(T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) =>
        JsonSerializer.SerializeToNode(value, type);
}
