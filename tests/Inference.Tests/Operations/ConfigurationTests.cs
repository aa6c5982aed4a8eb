using System.Diagnostics;
using Inference.Server.Hosting;
using Inference.Tests.Support;

namespace Inference.Tests.Operations;

public sealed class ConfigurationTests
{
    private static Dictionary<string, string?> Map(params (string Name, string Value)[] env) =>
        ServerConfiguration.FromOllamaEnvironment(name => env.FirstOrDefault(e => e.Name == name).Value);

    [Fact]
    public void Ollama_variables_map_to_settings()
    {
        var m = Map(("OLLAMA_NUM_PARALLEL", "8"), ("OLLAMA_MAX_QUEUE", "16"), ("OLLAMA_MAX_LOADED_MODELS", "2"),
            ("OLLAMA_KEEP_ALIVE", "1h"), ("OLLAMA_MODELS", "/srv/models"), ("OLLAMA_HOST", "0.0.0.0:9000"),
            ("OLLAMA_ORIGINS", "https://app.example.com"), ("OLLAMA_DEBUG", "1"));
        Assert.Equal("8", m["Inference:NumParallel"]);
        Assert.Equal("16", m["Inference:MaxQueue"]);
        Assert.Equal("2", m["Inference:MaxLoadedModels"]);
        Assert.Equal("01:00:00", m["Inference:KeepAlive"]);
        Assert.Equal("/srv/models", m["Inference:ModelsDirectory"]);
        Assert.Equal("http://0.0.0.0:9000", m["urls"]);
        Assert.Equal("https://app.example.com", m["Server:AllowedOrigins"]);
        Assert.Equal("Debug", m["Logging:LogLevel:Default"]);
    }

    [Theory]
    [InlineData("OLLAMA_NUM_PARALLEL", "many")]
    [InlineData("OLLAMA_NUM_PARALLEL", "0")]
    [InlineData("OLLAMA_MAX_QUEUE", "-3")]
    [InlineData("OLLAMA_MAX_LOADED_MODELS", "x")]
    [InlineData("OLLAMA_KEEP_ALIVE", "forever")]
    [InlineData("OLLAMA_HOST", "localhost:99999")]
    public void Invalid_values_name_the_variable(string name, string value)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => Map((name, value)));
        Assert.StartsWith($"{name}='{value}'", ex.Message);
    }

    [Fact]
    public async Task The_server_refuses_to_start_with_a_bad_setting_and_says_which()
    {
        var server = Path.Combine(AppContext.BaseDirectory, "Inference.Server.dll");
        var psi = new ProcessStartInfo("dotnet", [server, "--urls", "http://127.0.0.1:0", "--Inference:ModelsDirectory=" + Path.GetTempPath()])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        psi.Environment["OLLAMA_NUM_PARALLEL"] = "lots";
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        _ = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(2, process.ExitCode);
        Assert.Equal("configuration error: OLLAMA_NUM_PARALLEL='lots' is invalid: expected a whole number >= 1", (await stderr).Trim());

        // Our own settings are validated at start-up too (ValidateOnStart).
        psi.Environment.Remove("OLLAMA_NUM_PARALLEL");
        psi.ArgumentList.Add("--Inference:NumParallel=0");
        using var second = Process.Start(psi)!;
        var secondErr = second.StandardError.ReadToEndAsync();
        _ = second.StandardOutput.ReadToEndAsync();
        Assert.True(second.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(2, second.ExitCode);
        Assert.Contains("NumParallel", await secondErr);
    }

    [Fact]
    public async Task A_port_another_process_listens_on_stops_the_server_with_one_line_and_no_stack_trace()
    {
        using var other = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        other.Start();
        int port = ((System.Net.IPEndPoint)other.LocalEndpoint).Port;
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Inference.Server.dll"),
            "--urls", $"http://127.0.0.1:{port}", "--Inference:ModelsDirectory=" + Path.GetTempPath()])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(3, process.ExitCode);
        Assert.Equal($"cannot listen: Failed to bind to address http://127.0.0.1:{port}: address already in use. " +
            "Stop what listens there, or choose another address with --urls.", (await stderr).Trim());
        Assert.DoesNotContain("   at ", await stdout);
    }

    [Theory]
    [InlineData("http://localhost:3000", "", true)]
    [InlineData("http://127.0.0.1:8080", "", true)]
    [InlineData("https://evil.example", "", false)]
    [InlineData("https://app.example.com", "https://app.example.com", true)]
    [InlineData("https://a.example.com", "https://*.example.com", true)]
    [InlineData("https://example.org", "*", true)]
    public void Cors_follows_ollamas_origin_rule(string origin, string configured, bool allowed) =>
        Assert.Equal(allowed, OriginPolicy.IsAllowed(origin, configured.Split(',', StringSplitOptions.RemoveEmptyEntries)));
}

public sealed class EngineOptionsValidationTests
{
    [Fact]
    public void A_step_budget_smaller_than_the_sequence_ids_is_refused_before_llama_cpp_could_abort()
    {
        var options = new Inference.Engine.Backend.EngineOptions { StepTokenBudget = 16, NumParallel = 16, PrefixCacheSequences = 4 };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Equal("Inference:StepTokenBudget (16) must be at least Inference:NumParallel + Inference:PrefixCacheSequences (20)", results.Single().ErrorMessage);

        options.StepTokenBudget = 20;
        Assert.True(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results = [], validateAllProperties: true));
    }
}
