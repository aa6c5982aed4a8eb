using Inference.ModelGen;
using Inference.Tests.Support;

namespace Inference.Tests.Platform.Code;

/// <summary>
/// The platform server with a third model, "fimcode": a generated GGUF (random weights) whose
/// vocabulary has fill-in-the-middle tokens, which neither shared test model has. stories260K
/// (no FIM tokens) takes the prefix-only path.
/// </summary>
public class CodeServer : PlatformServer, IAsyncLifetime
{
    public const string FimModel = "fimcode";

    private readonly string _dir = Directory.CreateTempSubdirectory("code-fim-").FullName;

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        var path = Path.Combine(_dir, "fim.gguf");
        ModelGenerator.WriteF16(ModelPreset.All["tiny"] with { FimTokens = true }, path, seed: 5);
        var (status, r) = await PostAsync("/api/create", new { model = FimModel, from = path, stream = false });
        Assert.Equal(200, status);
        Assert.Equal("success", (string)r!["status"]!);
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>A code server that allows one completion per user and hour.</summary>
public sealed class LimitedCodeServer : PlatformServer
{
    protected override IEnumerable<string> PlatformSettings => ["--Platform:RateLimits:CodeCompletionPerHour=1"];
}
