using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

[Collection("server")]
public sealed class ChatTests(SharedServer server)
{
    [Fact]
    public async Task Chat_returns_an_assistant_message_with_counts()
    {
        var (status, r) = await server.PostAsync("/api/chat", new
        {
            model = "stories",
            messages = new[] { new { role = "user", content = "Once upon a time" } },
            stream = false,
            options = new { temperature = 0, num_predict = 10 },
        });

        Assert.Equal(200, status);
        Assert.Equal("assistant", (string)r!["message"]!["role"]!);
        Assert.False(string.IsNullOrEmpty((string)r["message"]!["content"]!));
        Assert.Equal(10, (int)r["eval_count"]!);
        Assert.True((bool)r["done"]!);
        Assert.Equal("length", (string)r["done_reason"]!);
    }

    [Fact]
    public async Task Streamed_chat_equals_non_streamed_chat()
    {
        var messages = new object[]
        {
            new { role = "system", content = "Tom liked red balls." },
            new { role = "user", content = "Tom went to the park." },
            new { role = "assistant", content = "He saw a big ball." },
            new { role = "user", content = "Then" },
        };
        var options = new { temperature = 0.7, seed = 99, num_predict = 24 };
        var (_, whole) = await server.PostAsync("/api/chat", new { model = "stories", messages, options, stream = false });
        var lines = await server.StreamAsync("/api/chat", new { model = "stories", messages, options });

        Assert.Equal((string)whole!["message"]!["content"]!, string.Concat(lines.Select(l => (string)l["message"]!["content"]!)));
        Assert.True((bool)lines[^1]["done"]!);
        Assert.Equal((int)whole["eval_count"]!, (int)lines[^1]["eval_count"]!);
    }

    [Fact]
    public async Task Chat_history_is_rendered_through_the_models_template()
    {
        var messages = new[]
        {
            new { role = "user", content = "Tom went to the park." },
            new { role = "assistant", content = "He saw a big ball." },
            new { role = "user", content = "Then" },
        };
        var options = new { temperature = 0, num_predict = 12 };
        var (_, chat) = await server.PostAsync("/api/chat", new { model = "stories", messages, options, stream = false });
        // stories has no template: the documented fallback renders each turn as {{ .Prompt }}{{ .Response }}.
        var (_, raw) = await server.PostAsync("/api/generate",
            new { model = "stories", prompt = "Tom went to the park.He saw a big ball.Then", raw = true, options, stream = false });

        Assert.Equal((string)raw!["response"]!, (string)chat!["message"]!["content"]!);
        Assert.Equal(12, (int)chat["eval_count"]!);
    }

    [Fact]
    public async Task A_history_longer_than_the_context_drops_the_oldest_turns_but_a_too_long_message_is_refused()
    {
        var turn = "Tom and his dog went to the park to play with a big red ball. ";
        var history = new List<object> { new { role = "system", content = "A story." } };
        for (int i = 0; i < 20; i++)
        {
            history.Add(new { role = "user", content = turn + i });
            history.Add(new { role = "assistant", content = turn });
        }
        history.Add(new { role = "user", content = "What happened next?" });
        var (status, r) = await server.PostAsync("/api/chat", new { model = "stories", messages = history, stream = false, options = new { num_ctx = 256, num_predict = 4 } });
        Assert.Equal(200, status);
        Assert.True((int)r!["prompt_eval_count"]! < 256);

        var huge = new[] { new { role = "user", content = string.Concat(Enumerable.Repeat(turn, 40)) } };
        (status, r) = await server.PostAsync("/api/chat", new { model = "stories", messages = huge, truncate = false, stream = false, options = new { num_ctx = 256 } });
        Assert.Equal(400, status);
        Assert.Contains("exceeds the context length (256 tokens)", (string)r!["error"]!);
    }

    [Fact]
    public async Task A_models_messages_layer_starts_every_conversation()
    {
        var (status, created) = await server.PostAsync("/api/create", new
        {
            model = "storyteller",
            from = "stories",
            messages = new[] { new { role = "user", content = "Tom had a dog." }, new { role = "assistant", content = "The dog was big." } },
            stream = false,
        });
        Assert.Equal(200, status);
        Assert.Equal("success", (string)created!["status"]!);

        var options = new { temperature = 0, num_predict = 10 };
        var (_, chat) = await server.PostAsync("/api/chat", new { model = "storyteller", messages = new[] { new { role = "user", content = "Then" } }, options, stream = false });
        var (_, raw) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Tom had a dog.The dog was big.Then", raw = true, options, stream = false });
        Assert.Equal((string)raw!["response"]!, (string)chat!["message"]!["content"]!);

        var (badStatus, bad) = await server.PostAsync("/api/create", new { model = "x", from = "stories", messages = new[] { new { role = "narrator", content = "x" } } });
        Assert.Equal(400, badStatus);
        Assert.Equal("messages[0].role must be system, user, assistant or tool", (string)bad!["error"]!);
    }

    [Fact]
    public async Task Unknown_role_is_rejected_naming_the_field()
    {
        var (status, r) = await server.PostAsync("/api/chat", new
        {
            model = "stories",
            messages = new[] { new { role = "user", content = "hi" }, new { role = "wizard", content = "x" } },
        });
        Assert.Equal(400, status);
        Assert.Equal("invalid role 'wizard' in messages[1].role: use system, user, assistant or tool", (string)r!["error"]!);
    }
}
