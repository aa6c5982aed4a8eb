using Inference.Engine.Store;

namespace Inference.Tests.Store;

public class ModelNameTests
{
    [Theory]
    [InlineData("stories", "registry.ollama.ai", "library", "stories", "latest")]
    [InlineData("stories:260k", "registry.ollama.ai", "library", "stories", "260k")]
    [InlineData("llama3.2:1b-instruct-q4_K_M", "registry.ollama.ai", "library", "llama3.2", "1b-instruct-q4_K_M")]
    [InlineData("myns/foo:1b", "registry.ollama.ai", "myns", "foo", "1b")]
    [InlineData("myns/foo", "registry.ollama.ai", "myns", "foo", "latest")]
    [InlineData("example.com/ns/m:t", "example.com", "ns", "m", "t")]
    [InlineData("example.com:5000/ns/m:t", "example.com:5000", "ns", "m", "t")]
    [InlineData("localhost:5000/ns/m", "localhost:5000", "ns", "m", "latest")]
    [InlineData("https://example.com/ns/m:t", "example.com", "ns", "m", "t")]
    [InlineData("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "hf.co", "bartowski", "Llama-3.2-1B-Instruct-GGUF", "Q4_K_M")]
    [InlineData("_private/x_y:_z", "registry.ollama.ai", "_private", "x_y", "_z")]
    public void Parse_Valid(string text, string host, string ns, string model, string tag)
    {
        Assert.True(ModelName.TryParse(text, out var name, out var error), error);
        Assert.Equal(host, name.Host);
        Assert.Equal(ns, name.Namespace);
        Assert.Equal(model, name.Model);
        Assert.Equal(tag, name.Tag);
        Assert.Equal(name, ModelName.Parse(text));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("has space")]
    [InlineData("model:")]
    [InlineData(":tag")]
    [InlineData("/model")]
    [InlineData("ns/")]
    [InlineData("a//b")]
    [InlineData("a/b/c/d")]          // too many parts: host "a/b" contains '/'
    [InlineData("..")]
    [InlineData("../etc/passwd")]
    [InlineData("ns/../x")]
    [InlineData("a..b")]             // stricter than Ollama: never ".." anywhere
    [InlineData("x/y/..")]
    [InlineData("model:..")]
    [InlineData("model\\x")]
    [InlineData("ns\\..\\m")]
    [InlineData("mod;el")]
    [InlineData("mod\"el")]
    [InlineData("mod'el")]
    [InlineData("-model")]
    [InlineData(".hidden")]
    [InlineData("model:-tag")]
    [InlineData("my.ns/model")]      // namespaces may not contain '.'
    [InlineData("model:t:u")]        // ':' in the model part
    [InlineData("mödel")]
    [InlineData("model@sha256-abc")]
    [InlineData("https://model")]
    public void Parse_Invalid(string? text)
    {
        Assert.False(ModelName.TryParse(text, out _, out var error));
        Assert.StartsWith("invalid model name", error);
        if (text is not null)
        {
            var e = Assert.Throws<FormatException>(() => ModelName.Parse(text));
            Assert.Equal(error, e.Message);
        }
    }

    [Fact]
    public void Parse_LengthLimits()
    {
        Assert.True(ModelName.TryParse(new string('m', 80), out _, out _));
        Assert.False(ModelName.TryParse(new string('m', 81), out _, out _));
        Assert.False(ModelName.TryParse("m:" + new string('t', 81), out _, out _));
        Assert.True(ModelName.TryParse(new string('h', 350) + "/n/m", out _, out _));
        Assert.False(ModelName.TryParse(new string('h', 351) + "/n/m", out _, out _));
    }

    [Theory]
    [InlineData("stories", "stories:latest")]
    [InlineData("library/stories:latest", "stories:latest")]
    [InlineData("registry.ollama.ai/library/stories:1", "stories:1")]
    [InlineData("REGISTRY.ollama.ai/Library/stories", "stories:latest")]
    [InlineData("myns/foo:1b", "myns/foo:1b")]
    [InlineData("registry.ollama.ai/myns/foo:1b", "myns/foo:1b")]
    [InlineData("example.com:5000/ns/m:t", "example.com:5000/ns/m:t")]
    [InlineData("example.com/library/m", "example.com/library/m:latest")]
    public void DisplayShortest_MatchesOllama(string text, string expected) =>
        Assert.Equal(expected, ModelName.Parse(text).DisplayShortest());

    [Fact]
    public void Equality_IgnoresCase_ButKeepsSpelling()
    {
        var a = ModelName.Parse("Llama3:Latest");
        var b = ModelName.Parse("llama3");
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.Equal("Llama3:Latest", a.DisplayShortest());
        Assert.NotEqual(ModelName.Parse("llama3:8b"), b);
        Assert.Contains(b, new HashSet<ModelName> { a });
    }

    [Fact]
    public void Paths()
    {
        var name = ModelName.Parse("example.com:5000/ns/m:t");
        Assert.Equal("manifests/example.com:5000/ns/m/t", name.ManifestRelativePath);
        Assert.Equal("example.com:5000/ns/m:t", name.ToString());

        Assert.True(ModelName.TryFromManifestPath("registry.ollama.ai/library/stories/latest", out var parsed));
        Assert.Equal(ModelName.Parse("stories"), parsed);
        Assert.True(ModelName.TryFromManifestPath(@"h\n\m\t", out parsed));
        Assert.Equal(ModelName.Parse("h/n/m:t"), parsed);
        Assert.False(ModelName.TryFromManifestPath("library/stories/latest", out _));
        Assert.False(ModelName.TryFromManifestPath("registry.ollama.ai/library/stories/.latest.tmp", out _));
        Assert.False(ModelName.TryFromManifestPath("registry.ollama.ai/library/../latest", out _));
    }
}
