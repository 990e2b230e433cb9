using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>
/// What `effnet train --fine-tune` states before a run, against peak resident memory measured by `finetune-speed` (the
/// first three) and by `/usr/bin/time -v effnet train --data sample-data --fine-tune --random-init --epochs 1` (the
/// whole process; docs/FINE-TUNING.md), within a quarter.
/// </summary>
public class MemoryEstimateTests
{
    // Mutation: the earlier rule (4 float tensors per output of every layer whatever the unfreeze and batch-norm mode, 64 MiB
    // of runtime) states 662 MiB for B0 128 px batch 16 (finetune-speed printed it) against 992 and 1,456 measured -> fails.
    [Theory]
    [InlineData("all", 128, 16, false, 992)]
    [InlineData("all", 128, 16, true, 1456)]
    [InlineData("top:2", 128, 16, false, 286)]
    [InlineData("all", 64, 8, true, 420)]
    [InlineData("all", 64, 16, true, 566)]
    [InlineData("all", 96, 16, true, 1008)]
    [InlineData("all", 96, 32, true, 1727)]
    [InlineData("top:3", 128, 16, true, 597)]
    public void The_stated_memory_is_within_a_quarter_of_the_measured_peak(string unfreeze, int resolution, int batch, bool trainBatchNorm, double measuredMiB)
    {
        var options = new FineTuneOptions { Unfreeze = Unfreeze.TryParse(unfreeze)!, Resolution = resolution, BatchSize = batch, TrainBatchNorm = trainBatchNorm };
        var statedMiB = FineTuner.EstimateMemoryBytes(EfficientNetVariant.B0, options) / 1048576.0;
        Assert.InRange(statedMiB / measuredMiB, 0.75, 1.25);
    }

    [Fact]
    public void A_random_start_is_stated_with_batch_norm_training()
    {
        var options = new FineTuneOptions { Unfreeze = Unfreeze.Everything, Resolution = 128, BatchSize = 16 };
        Assert.True(FineTuner.EstimateMemoryBytes(EfficientNetVariant.B0, options, randomStart: true) > 1.3 * FineTuner.EstimateMemoryBytes(EfficientNetVariant.B0, options));
    }
}
