using System.ComponentModel.DataAnnotations;
using Inference.Engine.Backend;

namespace Inference.Tests.Invariance;

public sealed class BatchInvariantSettingsTests
{
    [Fact]
    public void The_mode_needs_room_for_three_padding_tokens_per_sequence_in_each_step()
    {
        var options = new EngineOptions { BatchInvariant = true, StepTokenBudget = 35, NumParallel = 8, PrefixCacheSequences = 4 };
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Equal("Inference:StepTokenBudget (35) must be at least 4 x Inference:NumParallel + Inference:PrefixCacheSequences (36) with Inference:BatchInvariant (up to 3 padding tokens per sequence)",
            results.Single().ErrorMessage);

        options.StepTokenBudget = 36;
        Assert.True(Validator.TryValidateObject(options, new(options), results = [], validateAllProperties: true));
        // Without the mode the same budget needs room only for the sequence ids.
        options.BatchInvariant = false;
        options.StepTokenBudget = 16;
        Assert.True(Validator.TryValidateObject(options, new(options), results = [], validateAllProperties: true));
    }
}
