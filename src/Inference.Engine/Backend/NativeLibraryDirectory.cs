using System.Runtime.InteropServices;

namespace Inference.Engine.Backend;

/// <summary>
/// A llama.cpp build of the user's own (Inference:NativeLibraryPath): the files LLamaSharp is pointed at,
/// checked before LLamaSharp makes any native call. A library built from another llama.cpp commit has
/// other struct layouts and would crash inside the first call, so its version is read first, through
/// ggml_commit() in libggml-base, which has no side effects and no arguments to get wrong.
/// </summary>
public sealed record NativeLibraryDirectory(string Directory, string LlamaPath, string? MtmdPath, string GgmlBasePath, string Commit)
{
    public const string Setting = "Inference:NativeLibraryPath";

    /// <summary>Checks <paramref name="directory"/> and returns what it holds; throws InvalidOperationException naming the setting when it cannot be used.</summary>
    public static NativeLibraryDirectory Open(string directory)
    {
        if (!Path.IsPathFullyQualified(directory))
            throw Refused($"'{directory}' is not an absolute path");
        if (!System.IO.Directory.Exists(directory))
            throw Refused($"directory '{directory}' does not exist");

        var llama = Required(directory, "llama");
        var ggmlBase = Required(directory, "ggml-base");
        Required(directory, "ggml");
        var mtmd = File.Exists(FileName(directory, "mtmd")) ? FileName(directory, "mtmd") : null;

        var commit = ReadCommit(ggmlBase);
        if (!LlamaCppVersion.Matches(commit))
            throw Refused(
                $"the library in '{directory}' was built from llama.cpp commit '{commit}', but LLamaSharp 0.30.0 binds " +
                $"llama.cpp {LlamaCppVersion.Commit}; rebuild it with scripts/build-llama-native.sh");
        return new NativeLibraryDirectory(directory, llama, mtmd, ggmlBase, commit);
    }

    /// <summary>The platform's file name for a library: libllama.so, llama.dll, libllama.dylib.</summary>
    public static string FileName(string directory, string library) => Path.Combine(directory,
        OperatingSystem.IsWindows() ? $"{library}.dll" : OperatingSystem.IsMacOS() ? $"lib{library}.dylib" : $"lib{library}.so");

    private static string Required(string directory, string library)
    {
        var path = FileName(directory, library);
        if (!File.Exists(path))
            throw Refused($"'{path}' is missing (the directory must hold llama.cpp's shared libraries, as scripts/build-llama-native.sh writes them)");
        return path;
    }

    /// <summary>ggml_commit() of the library: git's short hash of the tree it was built from.</summary>
    private static unsafe string ReadCommit(string ggmlBasePath)
    {
        IntPtr handle;
        try
        {
            handle = NativeLibrary.Load(ggmlBasePath);
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException)
        {
            throw Refused($"'{ggmlBasePath}' could not be loaded: {ex.Message}");
        }
        // ggml has exported its commit since mid-2025; a library without it is older than LLamaSharp 0.30.0's.
        if (!NativeLibrary.TryGetExport(handle, "ggml_commit", out var export))
            throw Refused($"'{ggmlBasePath}' does not export ggml_commit(), so it predates llama.cpp {LlamaCppVersion.Commit}, the commit LLamaSharp 0.30.0 binds");
        return Marshal.PtrToStringUTF8(((delegate* unmanaged<IntPtr>)export)()) ?? "";
    }

    private static InvalidOperationException Refused(string reason) => new($"{Setting}: {reason}");
}
