using EffNet.MLNet.Training;
using EffNet.MLNet.Training.MultiLabel;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet.Tests.MultiLabel;

/// <summary>A multi-label model exported as one ONNX graph: ONNX Runtime gives the probabilities ML.NET gives.</summary>
public class MultiLabelOnnxExportTests(MultiLabelTrainingTests.ShapeColourFeatures f) : IClassFixture<MultiLabelTrainingTests.ShapeColourFeatures>
{
    // Mutation (run): ClassifierOnnxExporter.Build converts only stages[1] (the normaliser) as the head -> there is no Probability output -> fails.
    [Fact]
    public void Onnx_runtime_reproduces_the_probabilities_of_lbfgs_and_fasttree_models()
    {
        foreach (var (name, result) in new[] { ("lbfgs", f.Lbfgs), ("fasttree", f.Result) })
        {
            var zip = f.File($"export-{name}.zip");
            f.Ml.Model.Save(result.Model, ImageClassifierTrainer.InputSchema(f.Ml), zip);
            var onnx = f.File($"export-{name}.onnx");
            ClassifierOnnxExporter.Save(f.Ml, zip, onnx);
            Assert.Equal(ShapeColourImages.Labels, TrainedClassifiers.Labels(onnx));
            Assert.Contains("\"probabilities\"", File.ReadAllText(ClassifierOnnxExporter.SidecarPath(onnx)));

            var images = result.ValidationImages.Take(5).Select(i => i.ImagePath).ToList();
            var expected = MultiLabelEvaluator.Probabilities(f.Ml, result.Model, images);
            var size = int.Parse(TrainedClassifiers.Metadata(onnx)["effnet.input_size"], System.Globalization.CultureInfo.InvariantCulture);
            using var session = new InferenceSession(onnx);
            Assert.Equal([ClassifierOnnxExporter.ProbabilitiesName], session.OutputMetadata.Keys);
            var input = new DenseTensor<float>(StockPixels(images, size), [images.Count, 3, size, size]);
            using var outputs = session.Run([NamedOnnxValue.CreateFromTensor(ClassifierOnnxExporter.InputName, input)]);
            var got = outputs.Single().AsEnumerable<float>().ToArray();
            Assert.Equal(images.Count * 4, got.Length);
            for (var i = 0; i < images.Count; i++)
                for (var j = 0; j < 4; j++)
                    Assert.True(Math.Abs(expected[i][j] - got[i * 4 + j]) <= 1e-4, $"{name}, image {i}, {ShapeColourImages.Labels[j]}: ML.NET {expected[i][j]}, ONNX {got[i * 4 + j]}");
            // Probabilities that ignore the image would make the comparison vacuous.
            Assert.Contains(expected, p => Math.Abs(p[0] - expected[0][0]) > 0.1);
        }
    }

    private static float[] StockPixels(IReadOnlyList<string> images, int size)
    {
        var ml = new MLContext(0);
        var input = ml.Data.LoadFromEnumerable(images.Select(p => new ImageRow { ImagePath = p }));
        var pipeline = ml.Transforms.LoadImages("Image", "", nameof(ImageRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Resized", size, size, "Image", ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"));
        return pipeline.Fit(input).Transform(input).GetColumn<float[]>("Pixels").SelectMany(p => p).ToArray();
    }
}
