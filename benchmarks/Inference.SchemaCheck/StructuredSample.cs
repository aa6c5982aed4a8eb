using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Inference.SchemaCheck;

/// <summary>How one constrained generation ended, judged by the oracle.</summary>
public enum SampleVerdict
{
    /// <summary>Parses and is valid for the schema.</summary>
    Valid,
    /// <summary>The server answered 400: the converter does not take the schema.</summary>
    Refused,
    /// <summary>The text is not one JSON document (cut off by the token cap when done_reason is "length").</summary>
    NotJson,
    /// <summary>Parses but the oracle says it is not valid for the schema.</summary>
    Invalid,
    /// <summary>Anything else (another status, a transport error).</summary>
    Error,
}

public sealed record SampleOutcome(SampleVerdict Verdict, string Detail, string? DoneReason, string Text)
{
    public bool Ok => Verdict == SampleVerdict.Valid;

    /// <summary>One line for a failure list: the verdict, why, and where the generation stopped.</summary>
    public string Describe() => $"{Verdict}{(DoneReason is null ? "" : $" (done_reason {DoneReason})")}: {Detail}";
}

/// <summary>
/// One request through the real server's HTTP API: POST /api/generate with the schema as `format`, a seed and a
/// num_predict cap, then the response text judged by <see cref="SchemaOracle"/>.
/// </summary>
public static class StructuredSample
{
    public const string Prompt = "Answer with the JSON document asked for.";

    public static async Task<SampleOutcome> RunAsync(HttpClient http, string model, string schema, SchemaOracle oracle, int seed, int cap, CancellationToken ct = default)
    {
        var body = new JsonObject
        {
            ["model"] = model, ["prompt"] = Prompt, ["format"] = JsonNode.Parse(schema), ["stream"] = false,
            ["options"] = new JsonObject { ["seed"] = seed, ["num_predict"] = cap },
        };
        string text;
        int status;
        try
        {
            using var response = await http.PostAsync("/api/generate", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"), ct);
            status = (int)response.StatusCode;
            text = await response.Content.ReadAsStringAsync(ct);
        }
        catch (HttpRequestException e)
        {
            return new(SampleVerdict.Error, e.Message, null, "");
        }
        JsonNode? answer;
        try { answer = JsonNode.Parse(text); }
        catch (JsonException) { answer = null; }
        if (status == 400) return new(SampleVerdict.Refused, (string?)answer?["error"] ?? text, null, "");
        if (status != 200 || answer?["response"] is null) return new(SampleVerdict.Error, $"HTTP {status}: {text}", null, "");
        var output = (string)answer["response"]!;
        var done = (string?)answer["done_reason"];
        var error = oracle.ValidateText(output);
        if (error is null) return new(SampleVerdict.Valid, "", done, output);
        return new(error.StartsWith("not JSON", StringComparison.Ordinal) ? SampleVerdict.NotJson : SampleVerdict.Invalid, error, done, output);
    }
}
