using Inference.Engine.Gguf;

namespace Inference.Tests.Gguf;

public class GgufNamesTests
{
    [Theory]
    // Ollama's own format_test.go table.
    [InlineData(0, "0")]
    [InlineData(999, "999")]
    [InlineData(1000, "1K")]
    [InlineData(1001, "1K")]
    [InlineData(1_000_000, "1M")]
    [InlineData(125_000_000, "125M")]
    [InlineData(500_500_000, "500.50M")]
    [InlineData(500_550_000, "500.55M")]
    [InlineData(1_000_000_000, "1B")]
    [InlineData(2_800_000_000, "2.8B")]
    [InlineData(2_850_000_000, "2.9B")]
    [InlineData(1_000_000_000_000, "1000B")]
    // Real model sizes.
    [InlineData(8_030_261_248, "8.0B")]
    [InlineData(1_235_814_400, "1.2B")]
    [InlineData(292_800, "293K")]
    // Exact binary ties round half-to-even like Go's fmt.
    [InlineData(2_500, "2K")]
    [InlineData(3_500, "4K")]
    [InlineData(2_250_000_000, "2.2B")]
    public void FormatParameterSize_MatchesOllama(long count, string expected) =>
        Assert.Equal(expected, GgufNames.FormatParameterSize(count));

    [Theory]
    [InlineData(0L, "F32")]
    [InlineData(1L, "F16")]
    [InlineData(2L, "Q4_0")]
    [InlineData(7L, "Q8_0")]
    [InlineData(15L, "Q4_K_M")]
    [InlineData(18L, "Q6_K")]
    [InlineData(32L, "BF16")]
    [InlineData(37L, "TQ2_0")]
    [InlineData(4L, "unknown")]
    [InlineData(1000L, "unknown")]
    [InlineData(null, "unknown")]
    public void FileTypeName_MapsLlamaFtype(long? fileType, string expected) =>
        Assert.Equal(expected, GgufNames.FileTypeName(fileType));
}
