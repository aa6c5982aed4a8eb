using System.ComponentModel.DataAnnotations;
using Inference.Engine.Backend;

namespace Inference.Tests.Push;

public sealed class PushChunkSettingTests
{
    [Fact]
    public void A_chunk_size_under_64_KiB_is_refused_at_start_up()
    {
        var options = new EngineOptions { PushChunkBytes = 65_535 };
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Equal("Inference:PushChunkBytes must be at least 65536, got 65535", results.Single().ErrorMessage);

        options.PushChunkBytes = 65_536;
        Assert.True(Validator.TryValidateObject(options, new(options), results = [], validateAllProperties: true));
        Assert.Equal(100L * 1024 * 1024, new EngineOptions().PushChunkBytes);
    }
}
