using EffNet.MLNet.Architecture;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>
/// timm's efficientnet_bN and tf_efficientnet_bN share tensor names, so the family comes from an
/// explicit option or from the names timm, torch hub and the Hugging Face hub give the file.
/// </summary>
public class CheckpointFamilyTests
{
    [Theory]
    [InlineData("tf_efficientnet_b0_aa-827b6e33.pth", CheckpointFamily.TimmTensorFlow)] // torch hub (timm's GitHub releases)
    [InlineData("tf_efficientnet_b5_ns-6f26d0cf.pth", CheckpointFamily.TimmTensorFlow)]
    [InlineData("efficientnet_b0_ra-3dd342df.pth", CheckpointFamily.Timm)]
    [InlineData("efficientnet_b3_ra2-cf984f9c.pth", CheckpointFamily.Timm)]
    [InlineData("models--timm--tf_efficientnet_b0.ns_jft_in1k/snapshots/8a1b2c/model.safetensors", CheckpointFamily.TimmTensorFlow)] // Hugging Face cache
    [InlineData("models--timm--efficientnet_b5.sw_in12k_ft_in1k/snapshots/8a1b2c/model.safetensors", CheckpointFamily.Timm)]
    [InlineData("tf_efficientnet_b0.ns_jft_in1k/model.safetensors", CheckpointFamily.TimmTensorFlow)] // huggingface-cli download --local-dir
    [InlineData("efficientnet_b0.ra_in1k/pytorch_model.bin", CheckpointFamily.Timm)]
    [InlineData("TF_EfficientNet_B0.pth", CheckpointFamily.TimmTensorFlow)]
    public void Timm_file_names_tell_the_family(string path, CheckpointFamily expected) =>
        Assert.Equal(expected, CheckpointFamilies.FromFileName(Path.Combine("/data/weights", path)));

    [Theory]
    [InlineData("weights.pth")]
    [InlineData("model.safetensors")]
    [InlineData("my_tf_efficientnetish.pth")]
    [InlineData("efficientnet/finetuned/model.pth")] // a folder named efficientnet says nothing about padding
    public void Other_names_tell_nothing(string path) =>
        Assert.Null(CheckpointFamilies.FromFileName(Path.Combine("/data/weights", path)));

    [Fact]
    public void Epsilon_and_padding_follow_the_family()
    {
        Assert.Equal(1e-5, CheckpointFamily.Torchvision.BatchNormEpsilon(EfficientNetVariant.B4));
        Assert.Equal(1e-3, CheckpointFamily.Torchvision.BatchNormEpsilon(EfficientNetVariant.B5));
        Assert.Equal(1e-5, CheckpointFamily.Timm.BatchNormEpsilon(EfficientNetVariant.B5));
        Assert.Equal(1e-3, CheckpointFamily.TimmTensorFlow.BatchNormEpsilon(EfficientNetVariant.B0));
        Assert.Equal(ConvPadding.TensorFlowSame, CheckpointFamily.TimmTensorFlow.Padding());
        Assert.Equal(ConvPadding.Symmetric, CheckpointFamily.Timm.Padding());
    }

    [Fact]
    public void A_timm_checkpoint_whose_name_does_not_say_is_refused_with_what_to_do()
    {
        using var dir = new TempDir();
        var path = dir.File("weights.pth");
        File.Copy(TorchvisionFixtures.File("timm-b0.pth"), path);
        var b0 = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(b0, path));
        Assert.Contains("weights.pth", ex.Message);
        // A C# caller is told the property, never the command line's flag.
        Assert.Contains("WeightsFamily = CheckpointFamily.Timm or TimmTensorFlow", ex.Message);
        Assert.DoesNotContain("--", ex.Message);

        Assert.Equal(CheckpointFamily.Timm, CheckpointLoader.Load(b0, path, CheckpointFamily.Timm).Family);
        Assert.Equal(CheckpointFamily.Torchvision, CheckpointLoader.Load(b0, TorchvisionFixtures.File("b0.pth")).Family);
    }

    [Fact]
    public void A_family_that_contradicts_the_tensor_names_is_refused()
    {
        var b0 = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var timm = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(b0, TorchvisionFixtures.File("b0.pth"), CheckpointFamily.TimmTensorFlow));
        Assert.Contains("timm-tf family was asked for, but the tensor names are torchvision's", timm.Message);
        var torchvision = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(b0, TorchvisionFixtures.File("tf-b0.pth"), CheckpointFamily.Torchvision));
        Assert.Contains("tensor names are timm's", torchvision.Message);
    }

    [Fact]
    public void The_featurizer_option_reaches_the_graph_and_the_identity()
    {
        var options = new EfficientNetFeaturizerOptions { WeightsPath = TorchvisionFixtures.File("tf-b0.pth"), WeightsFamily = CheckpointFamily.TimmTensorFlow };
        var tf = EfficientNetBackbone.Resolve(options);
        var timm = EfficientNetBackbone.Resolve(options with { WeightsFamily = CheckpointFamily.Timm });
        Assert.Equal(CheckpointFamily.TimmTensorFlow, tf.WeightsFamily);
        Assert.Contains(tf.Graph.Graph.Node, n => n.OpType == "Conv" && n.Attribute.Any(a => a.Name == "auto_pad" && a.S.ToStringUtf8() == "SAME_UPPER"));
        Assert.DoesNotContain(timm.Graph.Graph.Node, n => n.Attribute.Any(a => a.Name == "auto_pad"));
        Assert.NotEqual(tf.Identity, timm.Identity); // a feature cache must not serve one family's vectors for the other
    }
}
