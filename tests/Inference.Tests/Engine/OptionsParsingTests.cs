using System.Text.Json;
using Inference.Engine.Models;
using Inference.Server.Hosting;
using Inference.Server.Ollama;
using Inference.Tests.Support;

namespace Inference.Tests.Engine;

public sealed class OptionsParsingTests
{
    [Theory]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("10s", 10)]
    [InlineData("1.5h", 5400)]
    [InlineData("300ms", 0.3)]
    [InlineData("120", 120)]
    [InlineData("0", 0)]
    [InlineData("-1", -1)]
    [InlineData("-5m", -1)]
    public void Keep_alive_durations_parse_like_ollama(string text, double seconds)
    {
        Assert.True(KeepAlive.TryParseDuration(text, out var t));
        Assert.Equal(seconds, t.TotalSeconds, 3);
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("5 minutes")]
    [InlineData("m5")]
    public void Bad_keep_alive_is_rejected(string text) => Assert.False(KeepAlive.TryParseDuration(text, out _));

    [Fact]
    public void Keep_alive_numbers_are_seconds()
    {
        var json = JsonDocument.Parse("90").RootElement;
        Assert.True(KeepAlive.TryParse(json, TimeSpan.FromMinutes(5), out var t, out _));
        Assert.Equal(TimeSpan.FromSeconds(90), t);
        Assert.True(KeepAlive.TryParse(null, TimeSpan.FromMinutes(5), out t, out _));
        Assert.Equal(TimeSpan.FromMinutes(5), t);
    }

    [Theory]
    [InlineData(null, "http://127.0.0.1:11434")]
    [InlineData("0.0.0.0", "http://0.0.0.0:11434")]
    [InlineData("0.0.0.0:8080", "http://0.0.0.0:8080")]
    [InlineData(":9000", "http://127.0.0.1:9000")]
    [InlineData("https://example.local:443", "https://example.local:443")]
    [InlineData("[::1]:11434", "http://[::1]:11434")]
    public void Ollama_host_becomes_a_listen_url(string? host, string url) => Assert.Equal(url, ServerConfiguration.ListenUrl(host));

    [Fact]
    public void Model_arguments_are_taken_out_of_the_command_line()
    {
        // Relative paths resolve against the working directory; a file must exist.
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, TestModels.Stories260K);
        string[] args = ["--model", $"a={relative}", "--urls", "http://127.0.0.1:0", $"--model=b:1b={TestModels.TinyRandomLlama2}"];
        Assert.Equal([("a", TestModels.Stories260K), ("b:1b", TestModels.TinyRandomLlama2)], ServerConfiguration.ModelArguments(args));
        Assert.Equal(["--urls", "http://127.0.0.1:0"], ServerConfiguration.WithoutModelArguments(args));
        Assert.Throws<InvalidOperationException>(() => ServerConfiguration.ModelArguments(["--model", "noequals"]));
        Assert.Throws<InvalidOperationException>(() => ServerConfiguration.ModelArguments(["--model", "a=/nonexistent/x.gguf"]));
    }

    [Fact]
    public void Request_options_layer_over_model_parameters()
    {
        var merged = new ModelOptions { Temperature = 0.1f }.Over(new ModelOptions { Temperature = 0.9f, NumPredict = 5, Stop = ["x"] });
        Assert.Equal(0.1f, merged.Temperature);
        Assert.Equal(5, merged.NumPredict);
        Assert.Equal(["x"], merged.Stop!);
        Assert.Equal("num_predict", new ModelOptions { NumPredict = -3 }.Validate()!.Field);
        Assert.Null(new ModelOptions { NumPredict = -1 }.Validate());
        Assert.Equal(Inference.Engine.Scheduling.SamplingSettings.LLamaSeedDefault, SamplingSeed(-1));
        Assert.Equal(42u, SamplingSeed(42));
    }

    private static uint SamplingSeed(long seed) => new ModelOptions { Seed = seed }.ToSampling(2048).Seed;
}
