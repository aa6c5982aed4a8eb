using Inference.Tests.Support;

namespace Inference.Tests.Scheduling;

/// <summary>A server started with n-gram drafting on.</summary>
public sealed class SpeculativeServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:SpeculativeDraft=ngram", "--Inference:SpeculativeMaxTokens=8", "--Inference:BatchInvariant=true"];
}

/// <summary>Inference:SpeculativeDraft through the server: a stream is drafted, exact in length, and the metrics count its drafts.</summary>
public sealed class SpeculativeServerTests(SpeculativeServer server) : IClassFixture<SpeculativeServer>
{
    private const string Model = "model=\"stories:latest\"";

    [Fact]
    public async Task A_drafted_stream_has_its_exact_length_and_the_metrics_count_its_accepted_drafts()
    {
        var lines = await server.StreamAsync("/api/generate", new
        {
            model = "stories",
            // The runner-level test's story, whose drafts are accepted there (a shorter one got none: clean-clone failure).
            prompt = SpeculativeDecodingTests.Repetitive,
            // Without a repeat penalty stories260K repeats itself, which drafts predict.
            options = new { temperature = 0, repeat_penalty = 1.0, num_predict = 160 },
        });

        var done = lines[^1];
        Assert.True((bool)done["done"]!);
        Assert.Equal(160, (int)done["eval_count"]!);
        var metrics = await server.Client.GetStringAsync("/metrics");
        double proposed = PrometheusText.Value(metrics, $"inference_draft_tokens_proposed_total{{{Model}}}");
        double accepted = PrometheusText.Value(metrics, $"inference_draft_tokens_accepted_total{{{Model}}}");
        Assert.True(accepted > 0, $"accepted {accepted} of {proposed}");
        Assert.True(proposed >= accepted);
        Assert.Equal(160, PrometheusText.Value(metrics, $"inference_generated_tokens_total{{{Model}}}"));
        // One step for the prompt (it fits the step budget) gives the first token; each later step one token plus those accepted.
        Assert.Equal(1 + 159 - accepted, PrometheusText.Value(metrics, $"inference_decode_steps_total{{{Model}}}"));
    }
}
