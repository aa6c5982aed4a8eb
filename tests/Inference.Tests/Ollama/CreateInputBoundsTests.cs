using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Inference.Tests.Support;

namespace Inference.Tests.Ollama;

/// <summary>
/// What create and the other model routes say back about what a client sent: never an unbounded
/// echo (names, quantization types, template text, names inside an uploaded GGUF), and for
/// create's <c>from</c>, special files inside an import directory are refused like any forbidden
/// path, without being opened. The shared test server lists the temp folder as an import directory.
/// </summary>
[Collection("server")]
public sealed class CreateInputBoundsTests(SharedServer server) : IDisposable
{
    private const string Refusal = "'from' must name an installed model, or a regular file in a directory listed in Inference:ImportDirectories; "
        + "to create from a file on the client, upload it with POST /api/blobs/<digest> and name the digest in 'files'";

    private static readonly string Huge = new('x', 100_000);
    private static readonly string Shown = new string('x', 100) + "...";

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string[] Manifests() =>
        Directory.EnumerateFiles(Path.Combine(server.ModelsDirectory, "manifests"), "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToArray();

    public static TheoryData<string, string, string> LongNames() => new()
    {
        { "POST", "/api/show", $"{{\"model\":\"{Huge}\"}}" },
        { "POST", "/api/generate", $"{{\"model\":\"{Huge}\",\"prompt\":\"x\"}}" },
        { "POST", "/api/chat", $"{{\"model\":\"{Huge}\",\"messages\":[]}}" },
        { "POST", "/api/embed", $"{{\"model\":\"{Huge}\",\"input\":\"x\"}}" },
        { "POST", "/api/create", $"{{\"model\":\"{Huge}\",\"from\":\"stories\"}}" },
        { "POST", "/api/pull", $"{{\"model\":\"{Huge}\"}}" },
        { "DELETE", "/api/delete", $"{{\"model\":\"{Huge}\"}}" },
        { "POST", "/api/copy", $"{{\"source\":\"{Huge}\",\"destination\":\"y\"}}" },
        { "POST", "/api/copy", $"{{\"source\":\"stories\",\"destination\":\"{Huge}\"}}" },
    };

    [Theory]
    [MemberData(nameof(LongNames))]
    public async Task A_long_model_name_is_echoed_cut_to_100_characters(string method, string route, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), route) { Content = TestServer.JsonContent(body) };
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(400, (int)response.StatusCode);
        var error = (string)System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        string prefix = route != "/api/copy" ? "" : body.Contains("\"source\":\"stories\"") ? "destination: " : "source: ";
        Assert.Equal($"{prefix}invalid model name '{Shown}': the model is longer than 80 characters", error);
    }

    /// <summary>A valid name of about 300 characters (a long registry host), which no model has.</summary>
    private static readonly string LongValid = new string('h', 280) + "/team/model:v1";

    public static TheoryData<string, string, string> LongValidNames() => new()
    {
        { "POST", "/api/show", $"{{\"model\":\"{LongValid}\"}}" },
        { "POST", "/api/generate", $"{{\"model\":\"{LongValid}\",\"prompt\":\"x\",\"stream\":false}}" },
        { "DELETE", "/api/delete", $"{{\"model\":\"{LongValid}\"}}" },
        { "POST", "/api/copy", $"{{\"source\":\"{LongValid}\",\"destination\":\"y\"}}" },
        { "POST", "/api/create", $"{{\"model\":\"y\",\"from\":\"{LongValid}\",\"stream\":false}}" },
    };

    [Theory]
    [MemberData(nameof(LongValidNames))]
    public async Task A_long_valid_name_that_is_not_installed_is_echoed_cut_to_100_characters(string method, string route, string body)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), route) { Content = TestServer.JsonContent(body) };
        using var response = await server.Client.SendAsync(request);
        Assert.Equal(404, (int)response.StatusCode);
        var error = (string)System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!;
        Assert.Equal($"model '{new string('h', 100)}...' not found", error);
    }

    [Fact]
    public async Task A_long_model_name_on_the_openai_routes_is_echoed_cut_to_100_characters()
    {
        var (status, r) = await server.PostAsync("/v1/chat/completions", new { model = Huge, messages = new[] { new { role = "user", content = "x" } } });
        Assert.Equal(404, status);
        Assert.Equal($"model \"{Shown}\" not found, try pulling it first", (string)r!["error"]!["message"]!);
        using var one = await server.Client.GetAsync("/v1/models/" + Huge[..5000]);
        Assert.Equal(404, (int)one.StatusCode);
        Assert.Contains($"\"model \\\"{Shown}\\\" not found\"", await one.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_long_quantization_type_is_echoed_cut_and_nothing_is_created()
    {
        var before = Manifests();
        var (status, r) = await server.PostAsync("/api/create", new { model = "quantize-bound", from = "stories", quantize = Huge, stream = false });
        Assert.Equal(400, status);
        Assert.StartsWith($"unsupported quantization type '{Shown}': use one of q4_0, ", (string)r!["error"]!);
        Assert.Equal(before, Manifests());
    }

    [Fact]
    public async Task A_template_error_quoting_a_huge_name_is_cut()
    {
        var (status, r) = await server.PostAsync("/api/create", new { model = "template-bound", from = "stories", template = "{{ " + Huge + " }}", stream = false });
        Assert.Equal(400, status);
        var error = (string)r!["error"]!;
        Assert.StartsWith("invalid template: ", error);
        Assert.EndsWith("...", error);
        Assert.Equal("invalid template: ".Length + 300 + 3, error.Length);
    }

    /// <summary>A GGUF header (v3, no tensors) with the same metadata key twice.</summary>
    private static byte[] GgufWithDuplicateKey(string key)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write(0UL); // tensors
        w.Write(2UL); // metadata entries
        for (int i = 0; i < 2; i++)
        {
            var bytes = Encoding.UTF8.GetBytes(key);
            w.Write((ulong)bytes.Length);
            w.Write(bytes);
            w.Write(4u); // UINT32
            w.Write((uint)i);
        }
        w.Flush();
        return ms.ToArray();
    }

    [Fact]
    public async Task Names_inside_an_uploaded_gguf_are_echoed_cut()
    {
        var gguf = GgufWithDuplicateKey(new string('k', 200_000));
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(gguf));
        using (var upload = await server.Client.PostAsync($"/api/blobs/{digest}", new ByteArrayContent(gguf)))
            Assert.Equal(201, (int)upload.StatusCode);
        try
        {
            var before = Manifests();
            var (status, r) = await server.PostAsync("/api/create", new { model = "gguf-bound", files = new Dictionary<string, string> { ["m.gguf"] = digest }, stream = false });
            Assert.Equal(400, status);
            Assert.Equal($"invalid model file: duplicate metadata key '{new string('k', 100)}...'", (string)r!["error"]!);
            Assert.Equal(before, Manifests());
        }
        finally
        {
            File.Delete(Path.Combine(server.ModelsDirectory, "blobs", "sha256-" + digest[7..]));
        }
    }

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} exited {process.ExitCode}: {error}");
    }

    [Fact]
    public async Task Special_files_inside_an_import_directory_are_refused_without_being_opened()
    {
        // The tests run as root (as CI does), which mknod needs; a failure fails the test rather than skipping it.
        Run("mknod", _dir.Combine("zero.gguf"), "c", "1", "5"); // /dev/zero: were it opened, its bytes would give "invalid model file", not the refusal
        File.CreateSymbolicLink(_dir.Combine("loop.gguf"), _dir.Combine("loop.gguf"));
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(_dir.Combine("socket.gguf")));
        var before = Manifests();
        foreach (var name in new[] { "zero.gguf", "loop.gguf", "socket.gguf" })
        {
            var clock = Stopwatch.StartNew();
            var (status, r) = await server.PostAsync("/api/create", new { model = "special", from = _dir.Combine(name), stream = false });
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"{name}: the request blocked");
            Assert.True(status == 400, $"{name}: {status} {r?.ToJsonString()}");
            Assert.Equal(Refusal, (string)r!["error"]!);
        }
        Assert.Equal(before, Manifests());
    }
}
