using System.Runtime.CompilerServices;
using LLama.Native;

namespace Inference.Engine.Backend;

/// <summary>
/// LoRA adapters through LLamaSharp: loaded onto a model's weights once, then set on each context made from
/// them (llama.cpp applies adapters per context, so every sequence a context decodes gets the same ones).
/// Files reach here only after <see cref="Models.LoraAdapterCheck"/> passed them.
/// </summary>
public static class LoraAdapters
{
    /// <summary>
    /// The scale every adapter is applied with. Ollama applies its ADAPTER layers at 1.0 and offers no setting;
    /// llama.cpp multiplies it by alpha / rank when the adapter declares adapter.lora.alpha.
    /// </summary>
    public const float Scale = 1.0f;

    /// <summary>Loads the adapter files onto the model's weights; throws when llama.cpp refuses one (it logs why).</summary>
    public static IReadOnlyList<LoraAdapter> Load(SafeLlamaModelHandle model, IReadOnlyList<string> paths)
    {
        var adapters = new List<LoraAdapter>(paths.Count);
        foreach (var path in paths)
        {
            var adapter = model.LoadLoraFromFile(path);
            // llama.cpp answers a refused file with a null adapter, which LLamaSharp wraps without checking;
            // setting it on a context would dereference it.
            if (NativePointer(adapter) == IntPtr.Zero)
                throw new InvalidOperationException($"llama.cpp could not load the LoRA adapter {Path.GetFileName(path)}");
            adapters.Add(adapter);
        }
        return adapters;
    }

    /// <summary>Sets the adapters on a context (none leaves it as it is).</summary>
    public static void Apply(SafeLLamaContextHandle context, IReadOnlyList<LoraAdapter> adapters)
    {
        if (adapters.Count == 0) return;
        var scaled = adapters.Select(a => (a, Scale)).ToArray();
        context.SetLoraAdapters(scaled);
    }

    /// <summary>LLamaSharp keeps the native pointer internal; reading it is the only way to see llama.cpp's null.</summary>
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "get_Pointer")]
    private static extern IntPtr NativePointer(LoraAdapter adapter);
}
