using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

[Collection("server")]
public sealed class LogprobTests(SharedServer server)
{
    [Fact]
    public async Task Generate_reports_each_tokens_logprob_and_the_top_alternatives()
    {
        var body = new { model = "stories", prompt = "Once upon a time", logprobs = true, top_logprobs = 3, stream = false, options = new { temperature = 0, num_predict = 8 } };
        var (status, r) = await server.PostAsync("/api/generate", body);
        Assert.Equal(200, status);
        var entries = r!["logprobs"]!.AsArray();
        Assert.Equal(8, entries.Count);
        Assert.Equal((string)r["response"]!, string.Concat(entries.Select(e => (string)e!["token"]!)));
        foreach (var e in entries)
        {
            var top = e!["top_logprobs"]!.AsArray();
            Assert.Equal(3, top.Count);
            // Greedy picks the most likely token: it is the first alternative, with the same log-probability.
            Assert.Equal((string)e["token"]!, (string)top[0]!["token"]!);
            Assert.Equal((float)e["logprob"]!, (float)top[0]!["logprob"]!, 4);
            Assert.True((float)e["logprob"]! <= 0);
            Assert.True((float)top[0]!["logprob"]! >= (float)top[1]!["logprob"]! && (float)top[1]!["logprob"]! >= (float)top[2]!["logprob"]!);
            Assert.Equal(System.Text.Encoding.UTF8.GetBytes((string)e["token"]!), e["bytes"]!.AsArray().Select(b => (byte)(int)b!).ToArray());
        }

        var lines = await server.StreamAsync("/api/generate", new { model = "stories", prompt = "Once upon a time", logprobs = true, top_logprobs = 3, options = new { temperature = 0, num_predict = 8 } });
        Assert.Equal(8, lines.Sum(l => l["logprobs"]?.AsArray().Count ?? 0));

        var (_, plain) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 2 } });
        Assert.Null(plain!["logprobs"]);
        var (bad, error) = await server.PostAsync("/api/chat", new { model = "stories", messages = new[] { new { role = "user", content = "x" } }, top_logprobs = 21 });
        Assert.Equal(400, bad);
        Assert.Equal("top_logprobs must be between 0 and 20", (string)error!["error"]!);
    }

    [Fact]
    public async Task Openai_chat_returns_logprobs_content()
    {
        var (status, r) = await server.PostAsync("/v1/chat/completions", new
        {
            model = "stories", messages = new[] { new { role = "user", content = "Once upon a time" } },
            logprobs = true, top_logprobs = 2, max_tokens = 6, temperature = 0,
        });
        Assert.Equal(200, status);
        var content = r!["choices"]![0]!["logprobs"]!["content"]!.AsArray();
        Assert.Equal(6, content.Count);
        Assert.All(content, c => Assert.Equal(2, c!["top_logprobs"]!.AsArray().Count));

        var (_, plain) = await server.PostAsync("/v1/chat/completions", new { model = "stories", messages = new[] { new { role = "user", content = "x" } }, max_tokens = 2 });
        Assert.Null(plain!["choices"]![0]!["logprobs"]);
    }
}
