using System.Runtime.InteropServices;
using LLama.Native;
using Microsoft.Extensions.Logging;

namespace Inference.Engine.Backend;

/// <summary>What the native llama.cpp library turned out to be after loading.</summary>
public sealed record BackendInfo(string Requested, string Loaded, bool GpuOffload, IReadOnlyList<string> Devices, string SystemInfo);

/// <summary>
/// Chooses and loads llama.cpp's native library once per process (LLamaSharp allows one configuration),
/// and routes llama.cpp's own log lines into ILogger.
/// </summary>
public static class NativeBackend
{
    private static readonly Lock Gate = new();
    private static BackendInfo? _info;
    private static Exception? _failure;

    /// <param name="library">A checked llama.cpp build of the user's own (Inference:NativeLibraryPath), or null for the NuGet backend.</param>
    public static BackendInfo Initialize(BackendKind kind, NativeLibraryDirectory? library, ILogger logger)
    {
        lock (Gate)
        {
            if (_info is not null) return _info;
            if (_failure is not null) throw new InvalidOperationException(_failure.Message, _failure);
            try
            {
                // LLamaSharp allows configuring only before the library loads; in a process where
                // something else loaded it first (tests, tools), keep that library and report it.
                if (!NativeLibraryConfig.LLama.LibraryHasLoaded)
                {
                    var config = NativeLibraryConfig.All
                        .WithCuda(kind != BackendKind.Cpu)
                        .WithVulkan(false)
                        .WithAutoFallback(kind == BackendKind.Auto)
                        .WithLogCallback((level, message) => Forward(logger, level, message));
                    // An explicit library replaces the search; LLamaSharp loads libggml* from the same directory.
                    if (library is not null) config.WithLibrary(library.LlamaPath, library.MtmdPath);
                }
                else if (library is not null)
                {
                    throw new InvalidOperationException(
                        $"{NativeLibraryDirectory.Setting}: llama.cpp was already loaded in this process, so '{library.Directory}' cannot be used");
                }
                // Forces the library to load now, so a missing backend fails at start-up, not at first request.
                var systemInfo = Marshal.PtrToStringAnsi(NativeApi.llama_print_system_info()) ?? "";
                bool gpu = NativeApi.llama_supports_gpu_offload();
                var devices = GgmlDevices.Describe(library?.GgmlBasePath);
                var loaded = library is not null
                    ? $"{library.LlamaPath} (llama.cpp {library.Commit})"
                    : NativeApi.GetLoadedNativeLibrary(NativeLibraryName.LLama)?.Metadata?.ToString() ?? "unknown";
                if (kind == BackendKind.Cuda && !gpu)
                    throw new InvalidOperationException(
                        "Inference:Backend is 'cuda' but the loaded llama.cpp library has no GPU support " +
                        "(build with -p:InferenceBackend=Cuda12, or point Inference:NativeLibraryPath at a " +
                        "scripts/build-llama-native.sh --backend cuda build, and run on a host with an NVIDIA driver)");
                _info = new BackendInfo(kind.ToString().ToLowerInvariant(), loaded, gpu, devices, systemInfo.Trim());
                return _info;
            }
            catch (Exception ex)
            {
                _failure = ex;
                throw;
            }
        }
    }

    /// <summary>The backend, or why it could not load (readiness reports this).</summary>
    public static (BackendInfo? Info, string? Error) State
    {
        get { lock (Gate) return (_info, _failure?.Message); }
    }

    private static void Forward(ILogger logger, LLamaLogLevel level, string message)
    {
        message = message.TrimEnd();
        // llama.cpp prints progress dots and per-tensor lines; keep them at Trace.
        if (message.Length <= 1) return;
        var mapped = level switch
        {
            LLamaLogLevel.Error => LogLevel.Error,
            LLamaLogLevel.Warning => LogLevel.Warning,
            LLamaLogLevel.Info => LogLevel.Debug,
            _ => LogLevel.Trace,
        };
        logger.Log(mapped, "llama.cpp: {Message}", message);
    }
}
