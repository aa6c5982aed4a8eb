using System.Diagnostics;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>A server that may import from one directory only (Inference:ImportDirectories), with files, links, a FIFO and a directory in it.</summary>
public sealed class ImportServer : TestServer, IAsyncLifetime
{
    public TempDirectory Allowed { get; } = new();
    public TempDirectory Outside { get; } = new();

    protected override IEnumerable<string> Settings => [$"--Inference:ImportDirectories:0={Allowed.Path}"];

    public ImportServer()
    {
        File.Copy(TestModels.Stories260K, Allowed.Combine("stories.gguf"));
        File.Copy(TestModels.Stories260K, Outside.Combine("secret.gguf"));
        Directory.CreateDirectory(Allowed.Combine("sub"));
        File.CreateSymbolicLink(Allowed.Combine("escape.gguf"), Outside.Combine("secret.gguf"));
        File.CreateSymbolicLink(Allowed.Combine("sub", "inside.gguf"), Allowed.Combine("stories.gguf"));
        Directory.CreateSymbolicLink(Allowed.Combine("dirlink"), Outside.Path);
        Directory.CreateDirectory(Allowed.Combine("folder.gguf"));
        using var mkfifo = Process.Start("mkfifo", [Allowed.Combine("pipe.gguf")])!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Allowed.Dispose();
        Outside.Dispose();
    }
}

/// <summary>A server that lists no import directory (the default): create's from names installed models only.</summary>
public sealed class NoImportServer : TestServer
{
    protected override IEnumerable<string> Settings => ["--Inference:ImportDirectories:0="];
}

/// <summary>
/// POST /api/create's "from" opens only regular files under the operator's import directories,
/// resolving links and ".." first, never opening FIFOs, devices or directories, and answering
/// missing and forbidden paths alike without echoing them.
/// </summary>
public sealed class ImportDirectoryTests(ImportServer server) : IClassFixture<ImportServer>
{
    private const string Refusal = "'from' must name an installed model, or a regular file in a directory listed in Inference:ImportDirectories; "
        + "to create from a file on the client, upload it with POST /api/blobs/<digest> and name the digest in 'files'";

    [Fact]
    public async Task A_regular_file_in_an_import_directory_creates_a_model()
    {
        foreach (var (name, from) in new[] { ("imported", server.Allowed.Combine("stories.gguf")), ("linked", server.Allowed.Combine("sub", "inside.gguf")),
                     ("dotted", server.Allowed.Combine("sub", "..", "stories.gguf")) })
        {
            var (status, r) = await server.PostAsync("/api/create", new { model = name, from, stream = false });
            Assert.True(status == 200, $"{from}: {status} {r?.ToJsonString()}");
            var (genStatus, gen) = await server.PostAsync("/api/generate", new { model = name, prompt = "Once", stream = false, options = new { num_predict = 2 } });
            Assert.Equal(200, genStatus);
            Assert.Equal(2, (int)gen!["eval_count"]!);
        }
    }

    public static TheoryData<string> Refused() =>
    [
        "/etc/passwd",                  // exists, outside
        "/etc/shadow",                  // exists, outside (the issue's probe)
        "/etc/no-such-file",            // missing, outside
        "/dev/zero",                    // a device
        "escape.gguf",                  // a link inside that points outside
        "dirlink/secret.gguf",          // a directory link inside that points outside
        "../{outside}/secret.gguf",     // '..' out of the directory
        "pipe.gguf",                    // a FIFO: opening it would block the request for ever
        "folder.gguf",                  // a directory
        "missing.gguf",                 // missing, inside
        "./stories.gguf",               // relative: resolved against the server's working directory, which is not listed
    ];

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task Everything_else_gets_one_answer_that_does_not_echo_the_path(string from)
    {
        string path = from.StartsWith('/') || from.StartsWith("./") ? from
            : server.Allowed.Combine(from.Replace("{outside}", Path.GetFileName(server.Outside.Path)));
        var before = Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs")).Length;
        var clock = Stopwatch.StartNew();
        var (status, r) = await server.PostAsync("/api/create", new { model = "refused", from = path, stream = false });
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the request blocked");
        Assert.Equal(400, status);
        Assert.Equal(Refusal, (string)r!["error"]!);
        Assert.Equal(before, Directory.GetFiles(Path.Combine(server.ModelsDirectory, "blobs")).Length);
    }

    [Fact]
    public async Task Client_input_in_errors_is_bounded()
    {
        var huge = new string('x', 100_000);
        var (status, r) = await server.PostAsync("/api/create", new { model = huge, from = "stories" });
        Assert.Equal(400, status);
        Assert.True(((string)r!["error"]!).Length < 400, $"{((string)r["error"]!).Length} characters");
        (status, r) = await server.PostAsync("/api/create", new { model = "ok", from = "bad name with spaces " + huge });
        Assert.Equal(400, status);
        Assert.True(((string)r!["error"]!).Length < 400);
        (status, r) = await server.PostAsync("/api/create", new { model = "ok", files = new Dictionary<string, string> { ["m.gguf"] = "sha256:../../etc/passwd" + huge } });
        Assert.Equal(400, status);
        Assert.StartsWith("invalid digest 'sha256:../../etc/passwd", (string)r!["error"]!);
        Assert.True(((string)r["error"]!).Length < 200);
    }
}

public sealed class NoImportDirectoryTests(NoImportServer server) : IClassFixture<NoImportServer>
{
    [Fact]
    public async Task Without_import_directories_from_names_models_and_start_up_files_still_register()
    {
        using var dir = new TempDirectory();
        File.Copy(TestModels.Stories260K, dir.Combine("stories.gguf"));
        var (status, r) = await server.PostAsync("/api/create", new { model = "from-file", from = dir.Combine("stories.gguf"), stream = false });
        Assert.Equal(400, status);
        Assert.StartsWith("'from' must name an installed model", (string)r!["error"]!);
        // The operator's --model registrations (from a directory nobody listed) are not limited.
        var (okStatus, _) = await server.PostAsync("/api/create", new { model = "from-model", from = "stories", stream = false });
        Assert.Equal(200, okStatus);
    }
}

/// <summary>
/// The import directories as the program reads them, in its own process with its settings file:
/// none unless the operator lists some, and a relative entry stops the start-up.
/// </summary>
public sealed class ImportDirectorySettingTests
{
    [Fact]
    public async Task By_default_no_file_on_the_server_can_be_named()
    {
        using var models = new TempDirectory();
        int port = ServerProcess.FreePort();
        await using var server = ServerProcess.Start($"http://127.0.0.1:{port}",
            ["--urls", $"http://127.0.0.1:{port}", $"--Inference:ModelsDirectory={models.Path}", "--model", $"stories={TestModels.Stories260K}"]);
        await server.WaitReadyAsync();
        var client = server.Client;
        // The very file the operator registered with --model: an existing, valid GGUF, still not nameable by a client.
        using var refused = await client.PostAsync("/api/create", TestServer.JsonContent(new { model = "copy", from = TestModels.Stories260K, stream = false }));
        Assert.Equal(400, (int)refused.StatusCode);
        Assert.StartsWith("{\"error\":\"'from' must name an installed model, or a regular file in a directory listed in Inference:ImportDirectories", await refused.Content.ReadAsStringAsync());
        Assert.False(Directory.Exists(Path.Combine(models.Path, "manifests", "registry.ollama.ai", "library", "copy")));
        using var fromModel = await client.PostAsync("/api/create", TestServer.JsonContent(new { model = "copy", from = "stories", stream = false }));
        Assert.Equal(200, (int)fromModel.StatusCode);
    }

    [Fact]
    public async Task A_relative_import_directory_stops_the_start_up_with_one_line()
    {
        using var models = new TempDirectory();
        await using var server = ServerProcess.Start("http://127.0.0.1:0",
            ["--urls", "http://127.0.0.1:0", $"--Inference:ModelsDirectory={models.Path}", "--Inference:ImportDirectories:0=models/import"]);
        Assert.Equal(2, await server.WaitForExitAsync());
        var lines = server.Output.Where(l => !l.StartsWith('{')).ToList(); // JSON lines are the log; the rest is stderr's message
        Assert.Single(lines);
        Assert.StartsWith("configuration error: ", lines[0]);
        Assert.Contains("Inference:ImportDirectories entry 'models/import' must be an absolute path", lines[0]);
    }
}
