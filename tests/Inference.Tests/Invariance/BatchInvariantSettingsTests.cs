using System.ComponentModel.DataAnnotations;
using Inference.Engine.Backend;

namespace Inference.Tests.Invariance;

public sealed class BatchInvariantSettingsTests
{
    [Fact]
    public void The_mode_needs_room_for_a_padding_token_per_sequence_in_each_step()
    {
        var options = new EngineOptions { BatchInvariant = true, StepTokenBudget = 19, NumParallel = 8, PrefixCacheSequences = 4 };
        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Equal("Inference:StepTokenBudget (19) must be at least 2 x Inference:NumParallel + Inference:PrefixCacheSequences (20) with Inference:BatchInvariant (a padding token per sequence)",
            results.Single().ErrorMessage);

        options.StepTokenBudget = 20;
        Assert.True(Validator.TryValidateObject(options, new(options), results = [], validateAllProperties: true));
        // Without the mode the same budget needs room only for the sequence ids.
        options.BatchInvariant = false;
        options.StepTokenBudget = 16;
        Assert.True(Validator.TryValidateObject(options, new(options), results = [], validateAllProperties: true));
    }
}
