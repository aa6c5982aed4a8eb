using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Inference.Engine.Backend;
using Inference.Tests.Support;

namespace Inference.Tests.Backend;

/// <summary>
/// Inference:NativeLibraryPath, as an operator uses it: the server process started with the setting.
/// A directory that cannot be used stops start-up with one line naming the setting and exit code 2,
/// before LLamaSharp calls into the library.
/// </summary>
public sealed class NativeLibraryPathTests
{
    [Fact]
    public async Task A_library_from_another_llama_cpp_commit_is_refused_before_it_is_called()
    {
        using var dir = new TempDirectory();
        // libggml-base as a five-line C file: ggml_commit() says "deadbeef". libllama.so and libggml.so are
        // empty files: were the server to hand them to LLamaSharp, loading would fail with another message.
        await CompileGgmlBaseAsync(dir.Path, """const char * ggml_commit(void) { return "deadbeef"; }""");
        File.WriteAllBytes(dir.Combine("libllama.so"), []);
        File.WriteAllBytes(dir.Combine("libggml.so"), []);

        await AssertRefusedAsync(dir.Path,
            $"configuration error: Inference:NativeLibraryPath: the library in '{dir.Path}' was built from llama.cpp commit 'deadbeef', " +
            $"but LLamaSharp 0.30.0 binds llama.cpp {LlamaCppVersion.Commit}; rebuild it with scripts/build-llama-native.sh");
    }

    [Fact]
    public async Task A_library_older_than_ggml_commit_is_refused()
    {
        using var dir = new TempDirectory();
        await CompileGgmlBaseAsync(dir.Path, """const char * ggml_version(void) { return "0.0.1"; }""");
        File.WriteAllBytes(dir.Combine("libllama.so"), []);
        File.WriteAllBytes(dir.Combine("libggml.so"), []);

        await AssertRefusedAsync(dir.Path,
            $"configuration error: Inference:NativeLibraryPath: '{dir.Combine("libggml-base.so")}' does not export ggml_commit(), " +
            $"so it predates llama.cpp {LlamaCppVersion.Commit}, the commit LLamaSharp 0.30.0 binds");
    }

    [Fact]
    public async Task A_directory_that_does_not_exist_is_refused()
    {
        using var parent = new TempDirectory();
        var missing = parent.Combine("llama-native");
        await AssertRefusedAsync(missing, $"configuration error: Inference:NativeLibraryPath: directory '{missing}' does not exist");
    }

    [Fact]
    public async Task A_relative_path_is_refused()
    {
        await AssertRefusedAsync("llama-native", "configuration error: Inference:NativeLibraryPath: 'llama-native' is not an absolute path");
    }

    [Fact]
    public async Task A_directory_without_libllama_is_refused()
    {
        using var dir = new TempDirectory();
        await CompileGgmlBaseAsync(dir.Path, """const char * ggml_commit(void) { return "815a2a591"; }""");
        await AssertRefusedAsync(dir.Path,
            $"configuration error: Inference:NativeLibraryPath: '{dir.Combine("libllama.so")}' is missing " +
            "(the directory must hold llama.cpp's shared libraries, as scripts/build-llama-native.sh writes them)");
    }

    [NativeBuildFact]
    public async Task The_server_generates_with_a_build_of_our_own_and_logs_its_path_and_devices()
    {
        var native = Path.GetFullPath(NativeBuildFactAttribute.Directory!);
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}",
            [$"--Inference:NativeLibraryPath={native}", "--model", $"stories={TestModels.Stories260K}"],
            new Dictionary<string, string> { ["OLLAMA_HOST"] = $"127.0.0.1:{port}", ["OLLAMA_MODELS"] = models.Path });
        await server.WaitReadyAsync();

        using var response = await server.Client.PostAsJsonAsync("/api/generate",
            new { model = "stories", prompt = "Once upon a time", stream = false, options = new { num_predict = 8, temperature = 0 } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(8, (int)body["eval_count"]!);
        Assert.NotEqual("", (string)body["response"]!);

        // One start-up line names the library loaded from the directory, its commit and the CPU device.
        var line = Assert.Single(server.Output, l => l.Contains("llama.cpp backend: requested", StringComparison.Ordinal));
        Assert.Contains($"loaded {Path.Combine(native, "libllama.so")} (llama.cpp 815a2a5", line);
        Assert.Matches(@"devices: CPU \(", line);
    }

    /// <summary>A libggml-base.so made of <paramref name="source"/>, compiled with the system's gcc.</summary>
    private static async Task CompileGgmlBaseAsync(string directory, string source)
    {
        var file = Path.Combine(directory, "ggml-base.c");
        File.WriteAllText(file, source + "\n");
        await Processes.RunCheckedAsync("gcc", ["-shared", "-fPIC", "-o", Path.Combine(directory, "libggml-base.so"), file]);
    }

    private static async Task AssertRefusedAsync(string nativeLibraryPath, string expected)
    {
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}", [$"--Inference:NativeLibraryPath={nativeLibraryPath}"],
            new Dictionary<string, string> { ["OLLAMA_HOST"] = $"127.0.0.1:{port}", ["OLLAMA_MODELS"] = models.Path });
        Assert.Equal(2, await server.WaitForExitAsync());
        var errors = server.Output.Where(l => !l.StartsWith('{')).ToList(); // JSON lines are the log; the rest is stderr's message
        Assert.Equal(expected, Assert.Single(errors));
        Assert.DoesNotContain(server.Output, l => l.Contains("llama.cpp backend: requested", StringComparison.Ordinal)); // LLamaSharp never loaded it
        Assert.DoesNotContain(server.Output, l => l.Contains("   at ", StringComparison.Ordinal)); // no stack trace anywhere
    }
}
