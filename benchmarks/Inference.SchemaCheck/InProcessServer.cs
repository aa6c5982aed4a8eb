using Inference.Server.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Inference.SchemaCheck;

/// <summary>The real server on a free loopback port with a throwaway models folder, for a run without --url.</summary>
public sealed class InProcessServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _modelsDirectory;

    private InProcessServer(WebApplication app, string modelsDirectory, IReadOnlyList<string> models)
    {
        _app = app;
        _modelsDirectory = modelsDirectory;
        Models = models;
    }

    public string Url => _app.Urls.First().TrimEnd('/');

    public IReadOnlyList<string> Models { get; }

    /// <summary>Starts with each "name=path.gguf" registered as the server's own --model does.</summary>
    public static async Task<InProcessServer> StartAsync(IReadOnlyList<string> modelFiles)
    {
        var directory = Path.Combine(Path.GetTempPath(), "inference-schemacheck-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var args = new List<string> { "--urls", "http://127.0.0.1:0", $"--Inference:ModelsDirectory={directory}", "--Logging:LogLevel:Default=Error" }; // the table, not llama.cpp's load warnings
        foreach (var model in modelFiles) args.AddRange(["--model", model]);
        var app = InferenceServer.Build([.. args]);
        await app.StartAsync();
        return new InProcessServer(app, directory, modelFiles.Select(m => m.Split('=', 2)[0]).ToList());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_modelsDirectory, recursive: true); } catch (IOException) { }
    }
}
