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

    public static BackendInfo Initialize(BackendKind kind, ILogger logger)
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
                    NativeLibraryConfig.All
                        .WithCuda(kind != BackendKind.Cpu)
                        .WithVulkan(false)
                        .WithAutoFallback(kind == BackendKind.Auto)
                        .WithLogCallback((level, message) => Forward(logger, level, message));
                }
                // Forces the library to load now, so a missing backend fails at start-up, not at first request.
                var systemInfo = Marshal.PtrToStringAnsi(NativeApi.llama_print_system_info()) ?? "";
                bool gpu = NativeApi.llama_supports_gpu_offload();
                var devices = new List<string>();
                for (nuint i = 0; i < NativeApi.ggml_backend_dev_count(); i++)
                {
                    var dev = NativeApi.ggml_backend_dev_get(i);
                    var name = Marshal.PtrToStringAnsi(NativeApi.ggml_backend_dev_name(dev)) ?? "?";
                    devices.Add(DeviceMemory(dev) is { } memory
                        ? $"{name} ({memory.Free / 1048576} MiB free of {memory.Total / 1048576} MiB)"
                        : name);
                }
                var loaded = NativeApi.GetLoadedNativeLibrary(NativeLibraryName.LLama)?.Metadata?.ToString() ?? "unknown";
                if (kind == BackendKind.Cuda && !gpu)
                    throw new InvalidOperationException(
                        "Inference:Backend is 'cuda' but the loaded llama.cpp library has no GPU support " +
                        "(build with -p:InferenceBackend=Cuda12 and run on a host with an NVIDIA driver)");
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

    /// <summary>
    /// ggml_backend_dev_memory is not bound by LLamaSharp; it is looked up in the ggml library that
    /// LLamaSharp already loaded (dlopen by name finds the loaded copy). Null if unavailable.
    /// </summary>
    private static unsafe (ulong Free, ulong Total)? DeviceMemory(IntPtr device)
    {
        foreach (var library in new[] { "libggml-base.so", "ggml-base.dll", "libggml-base.dylib" })
        {
            if (!NativeLibrary.TryLoad(library, out var handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "ggml_backend_dev_memory", out var export)) return null;
            nuint free = 0, total = 0;
            ((delegate* unmanaged<IntPtr, nuint*, nuint*, void>)export)(device, &free, &total);
            return (free, total);
        }
        return null;
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
