using System.Runtime.InteropServices;
using LLama.Native;

namespace Inference.Engine.Backend;

/// <summary>
/// The ggml backend devices llama.cpp found (CPU, CUDA0, Vulkan0, ...). LLamaSharp binds the count, the
/// lookup and the name; description and memory are read from libggml-base's own exports.
/// </summary>
public static class GgmlDevices
{
    /// <summary>One line per device: "CUDA0 (NVIDIA H200; 140000 MiB free of 143000 MiB)".</summary>
    /// <param name="ggmlBasePath">The libggml-base LLamaSharp loaded, when known (a configured directory); else found by name.</param>
    public static IReadOnlyList<string> Describe(string? ggmlBasePath)
    {
        var ggmlBase = ggmlBasePath is not null && NativeLibrary.TryLoad(ggmlBasePath, out var byPath) ? byPath : LoadByName();
        var devices = new List<string>();
        for (nuint i = 0; i < NativeApi.ggml_backend_dev_count(); i++)
        {
            var dev = NativeApi.ggml_backend_dev_get(i);
            var name = Marshal.PtrToStringAnsi(NativeApi.ggml_backend_dev_name(dev)) ?? "?";
            var details = new List<string>();
            if (Description(ggmlBase, dev) is { Length: > 0 } description && description != name) details.Add(description);
            if (Memory(ggmlBase, dev) is { } memory) details.Add($"{memory.Free / 1048576} MiB free of {memory.Total / 1048576} MiB");
            devices.Add(details.Count > 0 ? $"{name} ({string.Join("; ", details)})" : name);
        }
        return devices;
    }

    /// <summary>dlopen by name finds the copy LLamaSharp already loaded from its runtimes folder.</summary>
    private static IntPtr LoadByName()
    {
        foreach (var library in new[] { "libggml-base.so", "ggml-base.dll", "libggml-base.dylib" })
            if (NativeLibrary.TryLoad(library, out var handle)) return handle;
        return IntPtr.Zero;
    }

    private static unsafe string? Description(IntPtr ggmlBase, IntPtr device)
    {
        if (ggmlBase == IntPtr.Zero || !NativeLibrary.TryGetExport(ggmlBase, "ggml_backend_dev_description", out var export)) return null;
        return Marshal.PtrToStringUTF8(((delegate* unmanaged<IntPtr, IntPtr>)export)(device));
    }

    private static unsafe (ulong Free, ulong Total)? Memory(IntPtr ggmlBase, IntPtr device)
    {
        if (ggmlBase == IntPtr.Zero || !NativeLibrary.TryGetExport(ggmlBase, "ggml_backend_dev_memory", out var export)) return null;
        nuint free = 0, total = 0;
        ((delegate* unmanaged<IntPtr, nuint*, nuint*, void>)export)(device, &free, &total);
        return (free, total);
    }
}
