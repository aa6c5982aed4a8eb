using System.Globalization;
using Inference.Engine.Backend;
using Inference.Server.Ollama;

namespace Inference.Server.Hosting;

/// <summary>
/// Maps Ollama's environment variables onto our settings so an Ollama deployment's environment
/// works unchanged. Inference__* variables and command-line options still win over them.
/// </summary>
public static class ServerConfiguration
{
    public const string DefaultHost = "127.0.0.1:11434";

    /// <summary>
    /// Adds Ollama's variables just above the settings files: they override appsettings.json, and
    /// our own environment variables (Inference__*) and the command line override them.
    /// </summary>
    public static void AddOllamaEnvironment(this ConfigurationManager config)
    {
        var mapped = FromOllamaEnvironment(Environment.GetEnvironmentVariable);
        var sources = config.Sources;
        int afterFiles = 0;
        for (int i = 0; i < sources.Count; i++)
            if (sources[i] is Microsoft.Extensions.Configuration.FileConfigurationSource) afterFiles = i + 1;
        sources.Insert(afterFiles, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = mapped });
    }

    /// <summary>
    /// The settings Ollama's variables ask for. A value that does not parse fails start-up with a
    /// message naming the variable (not a confusing binding error about our own setting name).
    /// </summary>
    public static Dictionary<string, string?> FromOllamaEnvironment(Func<string, string?> env)
    {
        var mapped = new Dictionary<string, string?>();
        string? Get(string name) => env(name) is { } v && !string.IsNullOrWhiteSpace(v) ? v.Trim() : null;
        void Integer(string name, string key, int min)
        {
            if (Get(name) is not { } v) return;
            if (!int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n < min)
                throw new InvalidOperationException($"{name}='{v}' is invalid: expected a whole number >= {min}");
            mapped[$"{EngineOptions.Section}:{key}"] = n.ToString(CultureInfo.InvariantCulture);
        }

        if (Get("OLLAMA_MODELS") is { } models) mapped[$"{EngineOptions.Section}:{nameof(EngineOptions.ModelsDirectory)}"] = models;
        Integer("OLLAMA_NUM_PARALLEL", nameof(EngineOptions.NumParallel), 1);
        Integer("OLLAMA_MAX_QUEUE", nameof(EngineOptions.MaxQueue), 1);
        Integer("OLLAMA_MAX_LOADED_MODELS", nameof(EngineOptions.MaxLoadedModels), 0);
        Integer("OLLAMA_CONTEXT_LENGTH", nameof(EngineOptions.DefaultContextLength), 16);
        // Ollama reads a Go duration or a number of seconds; zero or negative means no limit.
        if (Get("OLLAMA_LOAD_TIMEOUT") is { } loadTimeout)
        {
            if (!KeepAlive.TryParseDuration(loadTimeout, out var t))
                throw new InvalidOperationException($"OLLAMA_LOAD_TIMEOUT='{loadTimeout}' is invalid: expected a duration such as 5m or 30s, or a number of seconds");
            mapped[$"{EngineOptions.Section}:{nameof(EngineOptions.LoadTimeout)}"] = (t == TimeSpan.MaxValue ? TimeSpan.Zero : t).ToString("c", CultureInfo.InvariantCulture);
        }
        if (Get("OLLAMA_KEEP_ALIVE") is { } keepAlive)
        {
            if (!KeepAlive.TryParseDuration(keepAlive, out var t))
                throw new InvalidOperationException($"OLLAMA_KEEP_ALIVE='{keepAlive}' is invalid: expected a duration such as 5m, 1h or -1");
            mapped[$"{EngineOptions.Section}:{nameof(EngineOptions.KeepAlive)}"] = t.ToString("c", CultureInfo.InvariantCulture);
        }
        // Ollama reads OLLAMA_NOPRUNE as a boolean where any value other than a false one means true.
        if (Get("OLLAMA_NOPRUNE") is { } noPrune && noPrune is not ("0" or "f" or "F" or "false" or "FALSE" or "False"))
            mapped[$"{EngineOptions.Section}:{nameof(EngineOptions.PruneOnStart)}"] = "false";
        // Ollama reads OLLAMA_FLASH_ATTENTION as a boolean; anything else is refused rather than read as off.
        if (Get("OLLAMA_FLASH_ATTENTION") is { } flash)
            mapped[$"{EngineOptions.Section}:{nameof(EngineOptions.FlashAttention)}"] = flash.ToLowerInvariant() switch
            {
                "1" or "true" => "on",
                "0" or "false" => "off",
                _ => throw new InvalidOperationException($"OLLAMA_FLASH_ATTENTION='{flash}' is invalid: expected 1, true, 0 or false"),
            };
        if (Get("OLLAMA_KV_CACHE_TYPE") is { } kvType)
            mapped[$"{EngineOptions.Section}:{nameof(EngineOptions.KvCacheType)}"] = KvCacheSettings.CacheTypes.ContainsKey(kvType)
                ? kvType.ToLowerInvariant()
                : throw new InvalidOperationException($"OLLAMA_KV_CACHE_TYPE='{kvType}' is invalid: expected f16, q8_0 or q4_0");
        if (Get("OLLAMA_HOST") is { } host) mapped["urls"] = ListenUrl(host);
        if (Get("OLLAMA_ORIGINS") is { } origins) mapped[$"{ServerOptions.Section}:{nameof(ServerOptions.AllowedOrigins)}"] = origins;
        if (Get("OLLAMA_DEBUG") is { } debug && debug is not ("0" or "false" or "False"))
            mapped["Logging:LogLevel:Default"] = "Debug";
        return mapped;
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
        if (!int.TryParse(port, NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) || p is < 0 or > 65535)
            throw new InvalidOperationException($"OLLAMA_HOST='{ollamaHost}' has an invalid port");
        return $"{scheme}://{name}:{p}";
    }

    /// <summary>
    /// Start-up registrations: "--model name=path/to/file.gguf" (repeatable). A relative path means
    /// the caller's working directory; a bad name or a missing file is a configuration error.
    /// </summary>
    public static IReadOnlyList<(string Name, string Path)> ModelArguments(string[] args)
    {
        var list = new List<(string, string)>();
        for (int i = 0; i < args.Length; i++)
        {
            string? value = null;
            if (args[i] == "--model" && i + 1 < args.Length) value = args[++i];
            else if (args[i].StartsWith("--model=", StringComparison.Ordinal)) value = args[i]["--model=".Length..];
            else if (args[i] == "--model") throw new InvalidOperationException("--model expects name=path/to/file.gguf");
            if (value is null) continue;
            int eq = value.IndexOf('=');
            if (eq <= 0 || eq == value.Length - 1)
                throw new InvalidOperationException($"--model expects name=path/to/file.gguf, got '{value}'");
            var (name, path) = (value[..eq], value[(eq + 1)..]);
            if (!Inference.Engine.Store.ModelName.TryParse(name, out _, out var nameError))
                throw new InvalidOperationException($"--model {name}: {nameError}");
            var full = System.IO.Path.GetFullPath(path);
            if (!File.Exists(full))
                throw new InvalidOperationException($"--model {name}: no such file: {full}");
            list.Add((name, full));
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
