using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>Bring your own ONNX: a whole torchvision classifier, exported by torch.onnx.export.</summary>
public class ForeignModelTests
{
    private static readonly Lazy<string> Exported = new(() =>
    {
        var dir = Path.Combine(Path.GetTempPath(), "effnet-foreign-" + Environment.ProcessId);
        // 42 MB a test process: removed when it ends, so runs do not fill the temp folder.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } };
        TorchvisionFixtures.RunScript("classifier", dir, "b0");
        return dir;
    });

    [Fact]
    public void Torchvision_classifier_loses_its_head_and_matches_torchvisions_features()
    {
        var onnx = Path.Combine(Exported.Value, "b0.classifier.onnx");
        var backbone = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { OnnxModelPath = onnx });
        Assert.Equal(1280, backbone.FeatureDimension);
        Assert.Equal(224, backbone.Resolution);
        Assert.Equal(256, backbone.ResizeSize);
        Assert.Contains(backbone.Findings, f => f.Contains("Gemm") && f.Contains("1000 classes"));
        Assert.Contains(backbone.Findings, f => f.Contains("ImageNet mean/std"));

        // Images resized to 256 go in; torchvision's features of their centre 224 crop must come out.
        var reference = SafetensorsReader.Read(Path.Combine(Exported.Value, "b0.classifier.reference.safetensors"));
        using var adapted = new FeatureSession(backbone.ToBytes(), 2);
        ParityCheck.AssertMatchesAndCatchesMistakes(reference["features"].Data, reference["pixels"].Data, 2, p => adapted.Run(p, 2));
    }

    [Fact]
    public void Models_whose_layout_or_head_cannot_be_determined_are_refused_with_the_reason()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("text.onnx"), "definitely not protobuf");
        Assert.Contains("text.onnx", Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(dir.File("text.onnx"), s => s)).Message);

        // A featurizer with a dynamic spatial size: the layout cannot be pinned down.
        var a = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var model = EfficientNetOnnxExporter.Build(a, RandomWeights.Create(a, 1));
        model.Graph.Input[0].Type.TensorType.Shape.Dim[2].DimParam = "h";
        File.WriteAllBytes(dir.File("dynamic.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(model));
        var ex = Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(dir.File("dynamic.onnx"), s => s));
        Assert.Contains("fixed", ex.Message);
        Assert.Contains("'pixels'", ex.Message);
    }
}
