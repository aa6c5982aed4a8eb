using System.Text.Json.Nodes;
using Inference.Engine.Models;
using Inference.Engine.Store;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// Every option that reaches llama.cpp is bounded: values it cannot serve are a 400 naming the field,
/// in each API's own error shape, and the server keeps serving. The first cases are the issue's
/// reproductions (each used to end the process).
/// </summary>
[Collection("server")]
public sealed class OptionBoundsTests(SharedServer server)
{
    private int Threads => server.Get<ModelManager>().Options.EffectiveThreads;

    /// <summary>A normal request still gets a normal answer.</summary>
    private async Task AssertServingAsync()
    {
        var (status, r) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_predict = 3 } });
        Assert.Equal(200, status);
        Assert.Equal(3, (int)r!["eval_count"]!);
    }

    private async Task AssertRefusedAsync(string path, object body, string error)
    {
        var (status, r) = await server.PostAsync(path, body);
        Assert.Equal(400, status);
        Assert.Equal(error, (string)r!["error"]!);
    }

    [Theory]
    [InlineData(100000)]     // used to exit the process in libgomp
    [InlineData(2147483647)] // used to abort on bad_alloc
    [InlineData(-1)]
    public async Task Num_thread_beyond_the_servers_thread_limit_is_refused(int threads)
    {
        var expected = threads < 0
            ? "options.num_thread must be 0 (the server's default) or a number of threads"
            : $"options.num_thread must be at most {Threads} (this server's thread limit)";
        var options = new { num_thread = threads, num_predict = 2 };
        await AssertRefusedAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options }, expected);
        await AssertRefusedAsync("/api/chat", new { model = "stories", messages = new[] { new { role = "user", content = "hi" } }, stream = false, options }, expected);
        await AssertRefusedAsync("/api/embed", new { model = "stories", input = "x", options }, expected);
        await AssertServingAsync();
        // The limit itself is served.
        var (status, _) = await server.PostAsync("/api/generate", new { model = "stories", prompt = "Once", stream = false, options = new { num_thread = Threads, num_predict = 2 } });
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task Num_ctx_beyond_the_models_training_context_is_refused_for_embeddings_and_generation()
    {
        // The reproduction: a SIGSEGV after a failed 128 GiB compute-buffer allocation.
        const string stories = "options.num_ctx must be between 16 and 2048 (the model's training context)";
        await AssertRefusedAsync("/api/embed", new { model = "stories", input = "x", options = new { num_ctx = 262144 } }, stories);
        await AssertRefusedAsync("/api/embeddings", new { model = "stories", prompt = "x", options = new { num_ctx = 262144 } }, stories);
        await AssertRefusedAsync("/api/generate", new { model = "stories", prompt = "x", stream = false, options = new { num_ctx = 2049 } }, stories);
        await AssertRefusedAsync("/api/chat", new { model = "stories", messages = new[] { new { role = "user", content = "hi" } }, options = new { num_ctx = 15 } }, stories);
        await AssertRefusedAsync("/api/generate", new { model = "tiny", prompt = "x", stream = false, options = new { num_ctx = 32769 } },
            "options.num_ctx must be between 16 and 32768 (the model's training context)");
        // A load-only request is held to the same bounds.
        await AssertRefusedAsync("/api/generate", new { model = "stories", options = new { num_ctx = 262144 } }, stories);
        await AssertServingAsync();
        var (status, r) = await server.PostAsync("/api/embed", new { model = "stories", input = "x", options = new { num_ctx = 2048 } });
        Assert.Equal(200, status);
        Assert.Equal(64, r!["embeddings"]![0]!.AsArray().Count);
    }

    [Fact]
    public async Task Sampling_options_outside_their_ranges_are_refused()
    {
        object Generate(object options) => new { model = "stories", prompt = "Once", stream = false, options };
        // llama.cpp keeps a ring buffer of repeat_last_n tokens per sequence (2147483647 aborted on bad_alloc).
        await AssertRefusedAsync("/api/generate", Generate(new { repeat_last_n = 2147483647 }),
            "options.repeat_last_n must be at most num_ctx (2048)");
        await AssertRefusedAsync("/api/generate", Generate(new { repeat_last_n = 1024, num_ctx = 512 }),
            "options.repeat_last_n must be at most num_ctx (512)");
        await AssertRefusedAsync("/api/generate", Generate(new { repeat_last_n = -2 }),
            "options.repeat_last_n must be -1 (the whole context), 0 (off) or a number of tokens");
        await AssertRefusedAsync("/api/generate", Generate(new { repeat_penalty = 0 }),
            "options.repeat_penalty must be a finite number greater than 0 (1 turns it off)");
        await AssertRefusedAsync("/api/generate", Generate(new { temperature = -0.5 }), "options.temperature must be a finite number, 0 or more");
        await AssertRefusedAsync("/api/generate", Generate(new { top_p = 1.5 }), "options.top_p must be between 0 and 1");
        await AssertRefusedAsync("/api/generate", Generate(new { min_p = -0.1 }), "options.min_p must be between 0 and 1");
        await AssertRefusedAsync("/api/generate", Generate(new { typical_p = 2 }), "options.typical_p must be between 0 and 1");
        await AssertRefusedAsync("/api/generate", Generate(new { num_gpu = -2 }), "options.num_gpu must be -1 (all layers), 0 or a number of layers");
        await AssertRefusedAsync("/api/generate", Generate(new { stop = Enumerable.Range(0, 33).Select(i => "s" + i).ToArray() }),
            "options.stop must hold at most 32 strings");
        await AssertRefusedAsync("/api/generate", Generate(new { stop = new[] { new string('x', 257) } }),
            "options.stop strings must be at most 256 characters long");
        // A number too large for a float is no number the server can use.
        var (status, text) = await server.PostRawAsync("/api/generate", "{\"model\":\"stories\",\"prompt\":\"x\",\"options\":{\"temperature\":1e39}}");
        Assert.Equal(400, status);
        Assert.Contains("temperature", text);
        await AssertServingAsync();

        // Values at the edges are served: top_k beyond the vocabulary keeps every token, repeat_last_n -1 is the context.
        var (edgeStatus, edge) = await server.PostAsync("/api/generate", Generate(new
        {
            top_k = 2147483647, repeat_last_n = -1, repeat_penalty = 1.3, presence_penalty = 3, frequency_penalty = -3, seed = long.MaxValue, num_predict = 5,
        }));
        Assert.Equal(200, edgeStatus);
        Assert.Equal(5, (int)edge!["eval_count"]!);
    }

    [Fact]
    public async Task The_openai_routes_refuse_in_their_own_shape_naming_the_field()
    {
        async Task Refused(object body, string message, string param)
        {
            var (status, r) = await server.PostAsync("/v1/chat/completions", body);
            Assert.Equal(400, status);
            Assert.Equal(message, (string)r!["error"]!["message"]!);
            Assert.Equal("invalid_request_error", (string)r["error"]!["type"]!);
            Assert.Equal(param, (string)r["error"]!["param"]!);
        }
        var messages = new[] { new { role = "user", content = "hi" } };
        await Refused(new { model = "stories", messages, temperature = -1 }, "temperature must be a finite number, 0 or more", "temperature");
        await Refused(new { model = "stories", messages, top_p = 3 }, "top_p must be between 0 and 1", "top_p");
        await Refused(new { model = "stories", messages, stop = Enumerable.Range(0, 40).Select(i => "s" + i).ToArray() }, "stop must hold at most 32 strings", "stop");
        await Refused(new { model = "stories", messages, logprobs = true, top_logprobs = 21 }, "top_logprobs must be between 0 and 20", "top_logprobs");
        await Refused(new { model = "stories", messages, max_tokens = 0 }, "max_tokens must be at least 1", "max_tokens");
        await Refused(new { model = "stories", messages, n = 0 }, "n must be between 1 and 8", "n");
        var (status, ok) = await server.PostAsync("/v1/chat/completions", new { model = "stories", messages, max_tokens = 3, frequency_penalty = 1.5 });
        Assert.Equal(200, status);
        Assert.Equal(3, (int)ok!["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task A_params_layer_outside_the_models_limits_is_refused_at_create_and_nothing_is_written()
    {
        // Refused before the first progress line, so a streamed create gets the status code too.
        var (status, r) = await server.PostAsync("/api/create", new { model = "bounded-ctx", from = "stories", parameters = new { num_ctx = 262144 } });
        Assert.Equal(400, status);
        Assert.Equal("parameters: options.num_ctx must be between 16 and 2048 (the model's training context)", (string)r!["error"]!);
        (status, r) = await server.PostAsync("/api/create", new { model = "bounded-threads", from = "stories", stream = false, parameters = new { num_thread = 100000 } });
        Assert.Equal(400, status);
        Assert.Equal($"parameters: options.num_thread must be at most {Environment.ProcessorCount} (this server's thread limit)", (string)r!["error"]!);
        (status, r) = await server.PostAsync("/api/create", new { model = "bounded-window", from = "stories", stream = false, parameters = new { repeat_last_n = 4096 } });
        Assert.Equal(400, status);
        Assert.Equal("parameters: options.repeat_last_n must be at most num_ctx (2048)", (string)r!["error"]!);
        foreach (var name in new[] { "bounded-ctx", "bounded-threads", "bounded-window" })
            Assert.Equal(404, (await server.PostAsync("/api/show", new { model = name })).Status);

        // Within the limits, the layer is kept and used.
        (status, _) = await server.PostAsync("/api/create", new { model = "bounded-ok", from = "stories", stream = false, parameters = new { num_ctx = 1024, repeat_last_n = 1024 } });
        Assert.Equal(200, status);
        var (genStatus, gen) = await server.PostAsync("/api/generate", new { model = "bounded-ok", prompt = "Once", stream = false, options = new { num_predict = 2 } });
        Assert.Equal(200, genStatus);
        Assert.Equal(2, (int)gen!["eval_count"]!);
        Assert.Equal(1024, (int)(await server.GetJsonAsync("/api/ps"))["models"]!.AsArray().First(m => (string)m!["name"]! == "bounded-ok:latest")!["context_length"]!);

        // A request's repeat_last_n is held to the num_ctx in effect: here the model's 4096, above the server's default 2048.
        (status, _) = await server.PostAsync("/api/create", new { model = "bounded-wide", from = "tiny", stream = false, parameters = new { num_ctx = 4096 } });
        Assert.Equal(200, status);
        (genStatus, gen) = await server.PostAsync("/api/generate",
            new { model = "bounded-wide", prompt = "Once", stream = false, options = new { num_predict = 2, repeat_last_n = 3000 } });
        Assert.True(genStatus == 200, gen?.ToJsonString());
        await AssertRefusedAsync("/api/generate", new { model = "bounded-wide", prompt = "Once", stream = false, options = new { repeat_last_n = 5000 } },
            "options.repeat_last_n must be at most num_ctx (4096)");
    }

    [Fact]
    public async Task A_stored_params_layer_outside_the_limits_is_refused_at_use_unless_the_request_overrides_it()
    {
        // A manifest written by an older version or another tool, whose params layer was never checked.
        var store = server.Get<ModelCatalog>().Store;
        var manifest = store.GetManifest(ModelName.Parse("stories"))!;
        var bad = await store.WriteTextBlobAsync("{\"num_ctx\":262144,\"num_thread\":100000}", MediaTypes.Params, CancellationToken.None);
        await store.WriteManifestAsync(ModelName.Parse("stored-params"),
            new ModelManifest { Config = manifest.Config, Layers = [.. manifest.Layers.Where(l => l.MediaType != MediaTypes.Params), bad] }, CancellationToken.None);

        await AssertRefusedAsync("/api/generate", new { model = "stored-params", prompt = "Once", stream = false },
            "the model's parameter num_ctx must be between 16 and 2048 (the model's training context); set options.num_ctx in the request, or re-create the model");
        await AssertRefusedAsync("/api/embed", new { model = "stored-params", input = "x", options = new { num_ctx = 512 } },
            $"the model's parameter num_thread must be at most {Threads} (this server's thread limit); " +
            "set options.num_thread in the request, or re-create the model");
        Assert.DoesNotContain("stored-params:latest", (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray().Select(m => (string)m!["name"]!));

        var (status, r) = await server.PostAsync("/api/generate",
            new { model = "stored-params", prompt = "Once", stream = false, options = new { num_ctx = 512, num_thread = 1, num_predict = 2 } });
        Assert.Equal(200, status);
        Assert.Equal(2, (int)r!["eval_count"]!);
        await AssertServingAsync();
    }

    [Fact]
    public async Task Keep_alive_outside_what_a_clock_can_hold_is_refused_or_means_forever()
    {
        object Request(object keepAlive, int ctx) => new { model = "tiny", prompt = "Once", stream = false, keep_alive = keepAlive, options = new { num_predict = 1, num_ctx = ctx } };
        foreach (var text in new[] { "NaN", "Infinity", "-Infinity" })
            await AssertRefusedAsync("/api/generate", Request(text, 256),
                "invalid keep_alive: use a duration such as \"5m\", \"1h\" or \"-1\", or a number of seconds");

        // Longer than any clock can count (1e300 seconds; 11,000 years, past the year 9999): kept loaded, like a negative value.
        foreach (var keepAlive in new object[] { 1e300, "100000000h" })
        {
            var (status, r) = await server.PostAsync("/api/generate", Request(keepAlive, 256));
            Assert.True(status == 200, r?.ToJsonString());
            var tiny = (await server.GetJsonAsync("/api/ps"))["models"]!.AsArray().Single(m => (string)m!["name"]! == "tiny:latest")!;
            Assert.True(DateTimeOffset.Parse((string)tiny["expires_at"]!) > DateTimeOffset.UtcNow.AddYears(100), tiny.ToJsonString());
            // The model is idle: another context reloads it at once (nothing waits on a release that never finished).
            (status, r) = await server.PostAsync("/api/generate", Request("5m", 512)).WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(status == 200, r?.ToJsonString());
        }
    }

    [Fact]
    public async Task An_embedding_request_holds_at_most_2048_inputs()
    {
        // Each input returns a vector of the model's width: short strings in a 16 MiB body could otherwise ask for gigabytes.
        var tooMany = Enumerable.Repeat("x", 2049).ToArray();
        await AssertRefusedAsync("/api/embed", new { model = "stories", input = tooMany }, "input must hold at most 2048 strings");
        var (status, r) = await server.PostAsync("/v1/embeddings", new { model = "stories", input = tooMany });
        Assert.Equal(400, status);
        Assert.Equal("input must hold at most 2048 strings", (string)r!["error"]!["message"]!);
        Assert.Equal("input", (string)r["error"]!["param"]!);

        (status, r) = await server.PostAsync("/api/embed", new { model = "stories", input = tooMany[1..] });
        Assert.Equal(200, status);
        Assert.Equal(2048, r!["embeddings"]!.AsArray().Count);
    }
}
