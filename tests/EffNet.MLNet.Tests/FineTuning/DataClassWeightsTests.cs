using EffNet.MLNet.FineTuning.Data;

namespace EffNet.MLNet.Tests.FineTuning;

public class DataClassWeightsTests
{
    // 6 of class 0, 3 of class 1, 1 of class 2, none of class 3: n / (k · n_c) = 10/24, 10/12, 10/4, and 0.
    // (scikit-learn's compute_class_weight("balanced") gives the same for the classes present.)
    // Mutation: the weight is n_c / n (frequency, not its inverse) -> fails.
    [Fact]
    public void Inverse_frequency_weights_give_every_class_the_same_total()
    {
        int[] labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 2];
        var weights = ClassWeights.InverseFrequency(labels, 4);
        Assert.Equal([10f / 24, 10f / 12, 10f / 4, 0f], weights);
        Assert.Equal(6 * weights[0], 3 * weights[1], 5);
        Assert.Equal(6 * weights[0], 1 * weights[2], 5);
    }

    [Fact]
    public void A_label_outside_the_classes_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassWeights.InverseFrequency([0, 4], 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassWeights.InverseFrequency([-1], 4));
    }
}
