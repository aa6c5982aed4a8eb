using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Inference.Tests.Support;

namespace Inference.Tests.WebConsole;

/// <summary>
/// The chat page (pages/chat.js) against the real server and models: an answer streams in, its counts are the
/// server's, Stop cancels the sequence on the server, the conversation survives a reload, JSON mode sends format.
/// </summary>
[Collection(ConsoleBrowser.Collection)]
public sealed class ChatPageTests(ConsoleBrowser browser, TestServer server) : IClassFixture<TestServer>
{
    private const string LastAnswer = "#chat-messages .chat-message[data-role=assistant]:last-of-type";

    /// <summary>Opens the chat page with an empty conversation and no saved settings.</summary>
    private void OpenEmpty()
    {
        browser.Open(server.BaseUrl, "chat");
        browser.Script("localStorage.removeItem('inference.console.chat')");
        browser.Driver.Navigate().Refresh();
        browser.Open(server.BaseUrl, "chat");
        browser.Wait(_ => browser.FindAll("#chat-model option").Count >= 2);
    }

    /// <summary>Sets a field the way typing does (its input/change event fires, so the page saves it).</summary>
    private void Fill(string css, string value) => browser.Script(
        "const el = document.querySelector(arguments[0]); el.value = arguments[1];" +
        "el.dispatchEvent(new Event('input')); el.dispatchEvent(new Event('change'));", css, value);

    /// <summary>
    /// Keeps a copy of the next /api/chat answer's body, as it came over the wire, in window.__chatWire (and the
    /// text so far in window.__chatWireSoFar), so a test compares what the page shows with what the server sent.
    /// </summary>
    private void CaptureChatWire() => browser.Script("""
        window.__chatWire = undefined; window.__chatWireSoFar = '';
        if (!window.__fetchWrapped) {
          window.__fetchWrapped = true;
          const original = window.fetch;
          window.fetch = async (...args) => {
            const response = await original(...args);
            if (!String(args[0]).endsWith('/api/chat') || !response.body) return response;
            const [page, copy] = response.body.tee();
            (async () => {
              const reader = copy.pipeThrough(new TextDecoderStream()).getReader();
              try { for (;;) { const { value, done } = await reader.read(); if (done) break; window.__chatWireSoFar += value; } }
              catch { /* aborted by Stop */ }
              window.__chatWire = window.__chatWireSoFar;
            })();
            return new Response(page, { status: response.status, statusText: response.statusText, headers: response.headers });
          };
        }
        """);

    private void Ask(string model, string question, params (string Field, string Value)[] settings)
    {
        Fill("#chat-model", model);
        foreach (var (field, value) in settings) Fill(field, value);
        Fill("#chat-input", question);
        browser.Find("#chat-send").Click();
    }

    private string Text(string css) => (string)browser.Script("return document.querySelector(arguments[0])?.textContent ?? ''", css)!;

    private string Data(string css, string key) =>
        (string?)browser.Script("return document.querySelector(arguments[0])?.dataset[arguments[1]] ?? null", css, key) ?? "";

    /// <summary>Waits until the last answer shows its counts (the final NDJSON line arrived).</summary>
    private void WaitForDone(int seconds = 60) =>
        browser.Wait(_ => Data($"{LastAnswer} .chat-stats", "evalCount").Length > 0 && !Disabled("#chat-send"), seconds);

    private bool Disabled(string css) => (bool)browser.Script("return document.querySelector(arguments[0]).disabled", css)!;

    private List<JsonNode> WireLines()
    {
        var wire = browser.Wait(_ => browser.Script("return window.__chatWire ?? null") as string);
        return wire.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
    }

    [Fact]
    public void An_answer_streams_in_and_shows_the_servers_counts()
    {
        browser.Desktop();
        OpenEmpty();
        // Every change of the answer's text is sampled in the page, with whether the counts had arrived yet.
        browser.Script("""
            window.__samples = [];
            new MutationObserver(() => {
              const answer = document.querySelector(arguments[0]);
              if (answer) window.__samples.push([answer.querySelector('.chat-content').textContent.length, !!answer.querySelector('.chat-stats').textContent]);
            }).observe(document.getElementById('chat-messages'), { subtree: true, childList: true, characterData: true });
            """, LastAnswer);
        CaptureChatWire();
        Ask("stories:latest", "Once upon a time", ("#chat-seed", "42"), ("#chat-temperature", "0"), ("#chat-num-predict", "300"),
            ("#chat-system", "You tell short stories."));
        WaitForDone();

        var samples = ((IEnumerable<object>)browser.Script("return window.__samples")!)
            .Select(s => ((IReadOnlyList<object>)s)).Select(s => (Length: Convert.ToInt32(s[0]), Done: (bool)s[1])).ToList();
        var growing = samples.Where(s => !s.Done && s.Length > 0).Select(s => s.Length).Distinct().ToList();
        Assert.True(growing.Count >= 3, $"the answer should grow in several steps before it is done: {string.Join(",", samples)}");
        Assert.Equal(growing.Order().ToList(), growing);

        var lines = WireLines();
        var final = lines[^1];
        Assert.True((bool)final["done"]!);
        var content = string.Concat(lines.Select(l => (string?)l["message"]?["content"] ?? ""));
        Assert.Equal(content, Text($"{LastAnswer} .chat-content"));
        Assert.True(growing[0] < content.Length, "the first text shown is part of the answer");
        Assert.Equal("Once upon a time", Text("#chat-messages .chat-message[data-role=user] .chat-content"));

        int promptCount = (int)final["prompt_eval_count"]!, evalCount = (int)final["eval_count"]!;
        long evalDuration = (long)final["eval_duration"]!;
        string rate = (evalCount / (evalDuration / 1e9)).ToString("F1", CultureInfo.InvariantCulture);
        Assert.True(evalCount > 10);
        Assert.Equal(promptCount.ToString(CultureInfo.InvariantCulture), Data($"{LastAnswer} .chat-stats", "promptEvalCount"));
        Assert.Equal(evalCount.ToString(CultureInfo.InvariantCulture), Data($"{LastAnswer} .chat-stats", "evalCount"));
        Assert.Equal(rate, Data($"{LastAnswer} .chat-stats", "tokensPerSecond"));
        Assert.StartsWith($"{promptCount} prompt tokens · {evalCount} tokens · {rate} tokens/s", Text($"{LastAnswer} .chat-stats"));
        // The model is now loaded, and the picker says so.
        browser.Wait(_ => Data("#chat-model option[value='stories:latest']", "loaded") == "true");
        Assert.EndsWith("● loaded", Text("#chat-model option[value='stories:latest']"));
        browser.Screenshot("chat-desktop");
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public async Task Stop_cancels_the_generation_on_the_server()
    {
        browser.Desktop();
        OpenEmpty();
        const string tiny = "model=\"tiny:latest\"";
        double cancelledBefore = await PrometheusText.ScrapeAsync(server.Client, $"inference_sequences_cancelled_total{{{tiny}}}");
        CaptureChatWire();
        // Random weights almost never sample EOS: without Stop this answer would run until its 32k context is full.
        Ask("tiny:latest", "The sun", ("#chat-num-predict", "-1"), ("#chat-num-ctx", TestModels.TinyServedContext.ToString(CultureInfo.InvariantCulture)));
        browser.Wait(_ => Text($"{LastAnswer} .chat-content").Length > 40);
        Assert.True(Disabled("#chat-send"));
        browser.Find("#chat-stop").Click();
        browser.Wait(_ => Data(LastAnswer, "stopped") == "true");

        var deadline = DateTime.UtcNow.AddSeconds(15);
        string metrics;
        do
        {
            metrics = await server.Client.GetStringAsync("/metrics");
            if (PrometheusText.Value(metrics, $"inference_active_sequences{{{tiny}}}") == 0 &&
                PrometheusText.Value(metrics, $"inference_sequences_cancelled_total{{{tiny}}}") > cancelledBefore) break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(0, PrometheusText.Value(metrics, $"inference_active_sequences{{{tiny}}}"));
        Assert.Equal(cancelledBefore + 1, PrometheusText.Value(metrics, $"inference_sequences_cancelled_total{{{tiny}}}"));

        // Ended early: the server never sent its final line, and the page says the answer was stopped.
        var lines = WireLines();
        Assert.NotEmpty(lines);
        Assert.DoesNotContain(lines, l => (bool?)l["done"] == true);
        Assert.Equal("stopped", Text($"{LastAnswer} .chat-stats"));
        Assert.Equal("", Data($"{LastAnswer} .chat-stats", "evalCount"));
        var stoppedText = Text($"{LastAnswer} .chat-content");
        await Task.Delay(500);
        Assert.Equal(stoppedText, Text($"{LastAnswer} .chat-content"));
        Assert.False(Disabled("#chat-send"));
        Assert.True(Disabled("#chat-stop"));
        Assert.Equal("", Text("#chat-error"));
        browser.Screenshot("chat-stopped");
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public void The_conversation_and_settings_survive_a_reload_until_new_chat()
    {
        browser.Desktop();
        OpenEmpty();
        Ask("stories:latest", "Lily had a cat", ("#chat-seed", "7"), ("#chat-num-predict", "24"), ("#chat-system", "Be brief."));
        WaitForDone();
        Fill("#chat-input", "What did the cat do?");
        browser.Find("#chat-send").Click();
        browser.Wait(_ => browser.FindAll("#chat-messages .chat-message").Count == 4);
        WaitForDone();
        var before = Conversation();
        Assert.Equal(4, before.Count);

        browser.Driver.Navigate().Refresh();
        browser.Open(server.BaseUrl, "chat");
        browser.Wait(_ => browser.FindAll("#chat-messages .chat-message").Count == 4);
        Assert.Equal(before, Conversation());
        Assert.Equal("stories:latest", browser.Find("#chat-model").GetDomProperty("value"));
        Assert.Equal("7", browser.Find("#chat-seed").GetDomProperty("value"));
        Assert.Equal("24", browser.Find("#chat-num-predict").GetDomProperty("value"));
        Assert.Equal("Be brief.", browser.Find("#chat-system").GetDomProperty("value"));

        browser.Find("#chat-new").Click();
        Assert.Empty(browser.FindAll("#chat-messages .chat-message"));
        browser.Driver.Navigate().Refresh();
        browser.Open(server.BaseUrl, "chat");
        browser.Wait(_ => browser.FindAll("#chat-model option").Count >= 2);
        Assert.Empty(browser.FindAll("#chat-messages .chat-message"));
        Assert.Equal("7", browser.Find("#chat-seed").GetDomProperty("value"));
        Assert.Empty(browser.PageErrors());
    }

    /// <summary>Each message as role, text and counts line.</summary>
    private List<string> Conversation() =>
        ((IEnumerable<object>)browser.Script("""
            return [...document.querySelectorAll('#chat-messages .chat-message')]
              .map(m => m.dataset.role + '|' + m.querySelector('.chat-content').textContent + '|' + m.querySelector('.chat-stats').textContent)
            """)!).Select(o => (string)o).ToList();

    [Fact]
    public void Json_mode_answers_json_that_parses()
    {
        browser.Desktop();
        OpenEmpty();
        CaptureChatWire();
        Ask("stories:latest", "Describe a cat as JSON:", ("#chat-format", "json"), ("#chat-seed", "1"), ("#chat-temperature", "0.8"), ("#chat-num-predict", "1500"));
        WaitForDone(120);
        Assert.Equal("stop", Data($"{LastAnswer} .chat-stats", "doneReason"));
        using var document = JsonDocument.Parse(Text($"{LastAnswer} .chat-content"));
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        Assert.Equal(Text($"{LastAnswer} .chat-content"), string.Concat(WireLines().Select(l => (string?)l["message"]?["content"] ?? "")));
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public async Task A_schema_the_server_refuses_shows_its_error_and_gives_the_question_back()
    {
        browser.Desktop();
        OpenEmpty();
        const string schema = """{"$ref":"#"}""";
        var (status, refused) = await server.PostAsync("/api/chat", new
        {
            model = "stories", messages = new[] { new { role = "user", content = "Once" } }, format = JsonNode.Parse(schema),
        });
        Assert.Equal(400, status);

        Ask("stories:latest", "Once", ("#chat-format", schema));
        browser.Wait(_ => Text("#chat-error").Length > 0);
        Assert.Equal((string)refused!["error"]!, Text("#chat-error"));
        Assert.Empty(browser.FindAll("#chat-messages .chat-message"));
        Assert.Equal("Once", browser.Find("#chat-input").GetDomProperty("value"));
        Assert.False(Disabled("#chat-send"));
        browser.Screenshot("chat-bad-schema");

        // Text that is not JSON at all is refused in the page, before anything is sent.
        Fill("#chat-format", "{type: object}");
        browser.Find("#chat-send").Click();
        browser.Wait(_ => Text("#chat-error").StartsWith("The schema is not JSON: ", StringComparison.Ordinal));
        Assert.Empty(browser.FindAll("#chat-messages .chat-message"));
        Assert.Empty(browser.PageErrors());
    }

    [Fact]
    public void A_conversation_fits_a_phone_without_sideways_scrolling()
    {
        browser.Phone();
        try
        {
            OpenEmpty();
            Ask("stories:latest", "Once upon a time there was a very long word: supercalifragilisticexpialidocious" + new string('x', 80),
                ("#chat-seed", "3"), ("#chat-num-predict", "60"));
            WaitForDone();
            var overflow = Convert.ToInt64(browser.Script("return document.documentElement.scrollWidth - window.innerWidth"));
            Assert.True(overflow <= 0, $"the chat page is {overflow} px wider than a 390-px phone");
            Assert.True(browser.Find("#chat-send").Displayed && browser.Find("#chat-stop").Displayed);
            browser.Screenshot("chat-phone");
            Assert.Empty(browser.PageErrors());
        }
        finally
        {
            browser.Desktop();
        }
    }
}
