namespace Inference.Tests.Support;

/// <summary>
/// A test that needs a llama.cpp build of our own (scripts/build-llama-native.sh's output), named by
/// $INFERENCE_TEST_NATIVE_DIR. CI has no such build (it takes longer than CI's whole budget on two cores),
/// so the test is reported as skipped, with the reason, when the variable is unset; that is the only skip.
/// </summary>
public sealed class NativeBuildFactAttribute : FactAttribute
{
    public const string Variable = "INFERENCE_TEST_NATIVE_DIR";

    public static string? Directory => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } dir ? dir : null;

    public NativeBuildFactAttribute()
    {
        if (Directory is null) Skip = $"${Variable} does not name a scripts/build-llama-native.sh build";
    }
}
