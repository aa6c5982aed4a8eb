using System.Globalization;
using Inference.Engine.Backend;
using Inference.Server.Ollama;

namespace Inference.Server.Hosting;

/// <summary>
/// Maps Ollama's environment variables onto our settings so an Ollama deployment's environment
/// works unchanged. Explicit "Inference:*" settings and command-line options still win.
/// </summary>
public static class ServerConfiguration
{
    public const string DefaultHost = "127.0.0.1:11434";

    public static void AddOllamaEnvironment(this ConfigurationManager config)
    {
        var mapped = new Dictionary<string, string?>();
        void Map(string env, string key, Func<string, string>? convert = null)
        {
            var value = Environment.GetEnvironmentVariable(env);
            if (!string.IsNullOrWhiteSpace(value)) mapped[$"{EngineOptions.Section}:{key}"] = convert is null ? value : convert(value);
        }
        Map("OLLAMA_MODELS", nameof(EngineOptions.ModelsDirectory));
        Map("OLLAMA_NUM_PARALLEL", nameof(EngineOptions.NumParallel));
        Map("OLLAMA_MAX_QUEUE", nameof(EngineOptions.MaxQueue));
        Map("OLLAMA_KEEP_ALIVE", nameof(EngineOptions.KeepAlive), v => KeepAlive.TryParseDuration(v, out var t)
            ? t.ToString("c", CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"OLLAMA_KEEP_ALIVE='{v}' is not a duration (e.g. 5m, 1h, -1)"));
        // Lowest precedence: put them in front of the existing sources.
        config.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = mapped });
    }

    /// <summary>OLLAMA_HOST ("0.0.0.0:11434", ":8080", "http://host:port") as a Kestrel URL.</summary>
    public static string ListenUrl(string? ollamaHost)
    {
        var host = string.IsNullOrWhiteSpace(ollamaHost) ? DefaultHost : ollamaHost.Trim();
        string scheme = "http";
        int sep = host.IndexOf("://", StringComparison.Ordinal);
        if (sep >= 0)
        {
            scheme = host[..sep];
            host = host[(sep + 3)..];
        }
        host = host.TrimEnd('/');
        string name = host, port = "11434";
        int colon = host.LastIndexOf(':');
        if (colon >= 0 && !host.EndsWith(']'))
        {
            name = host[..colon];
            port = host[(colon + 1)..];
        }
        if (name.Length == 0) name = "127.0.0.1";
        if (!int.TryParse(port, out var p) || p is < 0 or > 65535)
            throw new InvalidOperationException($"OLLAMA_HOST='{ollamaHost}' has an invalid port");
        return $"{scheme}://{name}:{p}";
    }

    /// <summary>Start-up registrations: "--model name=path/to/file.gguf" (repeatable).</summary>
    public static IReadOnlyList<(string Name, string Path)> ModelArguments(string[] args)
    {
        var list = new List<(string, string)>();
        for (int i = 0; i < args.Length; i++)
        {
            string? value = null;
            if (args[i] == "--model" && i + 1 < args.Length) value = args[++i];
            else if (args[i].StartsWith("--model=", StringComparison.Ordinal)) value = args[i]["--model=".Length..];
            if (value is null) continue;
            int eq = value.IndexOf('=');
            if (eq <= 0 || eq == value.Length - 1)
                throw new InvalidOperationException($"--model expects name=path/to/file.gguf, got '{value}'");
            list.Add((value[..eq], value[(eq + 1)..]));
        }
        return list;
    }

    /// <summary>Arguments left for ASP.NET Core's configuration once ours are taken out.</summary>
    public static string[] WithoutModelArguments(string[] args)
    {
        var rest = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--model") { i++; continue; }
            if (args[i].StartsWith("--model=", StringComparison.Ordinal)) continue;
            rest.Add(args[i]);
        }
        return [.. rest];
    }
}
