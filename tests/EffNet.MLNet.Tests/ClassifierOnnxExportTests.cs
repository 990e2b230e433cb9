using System.Text.Json;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Models trained by <c>effnet train</c> with each trainer, exported by <c>effnet export --model</c>,
/// and what <c>effnet predict</c> says about a few images: shared by the export tests.
/// </summary>
public sealed class TrainedClassifiers : IDisposable
{
    public static readonly string[] Kinds = ["sdca", "lbfgs", "lightgbm", "fasttree"];

    private readonly TempDir _dir = new();

    public TrainedClassifiers()
    {
        // Twenty a class: with ten, SDCA's L1 penalty zeroes every weight and the scores no longer depend on the image.
        var data = SampleData.CopyFirst(_dir.File("data"), perLabel: 20);
        // Two images a class that the models never saw.
        Images = new[] { "checkers", "discs", "stripes" }
            .SelectMany(l => Directory.GetFiles(Path.Combine(SampleData.Folder, l)).Order().Skip(20).Take(2)).ToList();
        var home = _dir.File("home");
        foreach (var kind in Kinds)
        {
            var model = _dir.File($"{kind}.zip");
            var train = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", model, "--random-init", "--trainer", kind, "--quiet");
            Assert.True(train.Code == 0, train.Err);
            var onnx = _dir.File($"{kind}.onnx");
            var export = CliTests.Effnet("export", "--model", model, "--out", onnx);
            Assert.True(export.Code == 0, export.Err);
            var predict = CliTests.Effnet(["predict", "--model", model, .. Images, "--top", "3", "--json"]);
            Assert.True(predict.Code == 0, predict.Err);
            Models[kind] = model;
            Onnx[kind] = onnx;
            Predictions[kind] = JsonDocument.Parse(predict.Out).RootElement.EnumerateArray()
                .Select(r => (r.GetProperty("label").GetString()!,
                    r.GetProperty("scores").EnumerateArray().ToDictionary(s => s.GetProperty("label").GetString()!, s => s.GetProperty("score").GetSingle())))
                .ToList();
        }
        InputSize = int.Parse(Metadata(Onnx["sdca"])["effnet.input_size"], System.Globalization.CultureInfo.InvariantCulture);
        Pixels = StockPixels(Images, InputSize);
    }

    public List<string> Images { get; }
    public Dictionary<string, string> Models { get; } = [];
    public Dictionary<string, string> Onnx { get; } = [];
    public Dictionary<string, List<(string Label, Dictionary<string, float> Scores)>> Predictions { get; } = [];
    public int InputSize { get; }

    /// <summary>[images, 3, S, S] as the saved model's own ResizeImages and ExtractPixels produce them.</summary>
    public float[] Pixels { get; }

    public string File(string name) => _dir.File(name);

    public static Dictionary<string, string> Metadata(string onnx) =>
        global::Onnx.ModelProto.Parser.ParseFrom(System.IO.File.ReadAllBytes(onnx)).MetadataProps.ToDictionary(p => p.Key, p => p.Value);

    public static string[] Labels(string onnx) => JsonSerializer.Deserialize<string[]>(Metadata(onnx)["labels"])!;

    private static float[] StockPixels(IReadOnlyList<string> images, int size)
    {
        var ml = new MLContext(0);
        var input = ml.Data.LoadFromEnumerable(images.Select(p => new ImageRow { ImagePath = p }));
        var pipeline = ml.Transforms.LoadImages("Image", "", nameof(ImageRow.ImagePath))
            .Append(ml.Transforms.ResizeImages("Resized", size, size, "Image", ImageResizingEstimator.ResizingKind.IsoCrop, ImageResizingEstimator.Anchor.Center))
            .Append(ml.Transforms.ExtractPixels("Pixels", "Resized"));
        var output = pipeline.Fit(input).Transform(input);
        return output.GetColumn<float[]>("Pixels").SelectMany(p => p).ToArray();
    }

    public void Dispose() => _dir.Dispose();
}

/// <summary><c>effnet export --model</c>: the whole trained classifier as one ONNX file any ONNX runtime reproduces.</summary>
[Trait("Category", "Slow")]   // trains four models through the CLI and installs onnxruntime-node once: ~3-4 min on 2 cores
public class ClassifierOnnxExportTests(TrainedClassifiers models) : IClassFixture<TrainedClassifiers>
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Kinds => new(TrainedClassifiers.Kinds);

    private static (float[] Scores, long[] Index) RunOrt(string onnx, float[] pixels, int count, int size)
    {
        using var session = new InferenceSession(onnx);
        var input = new DenseTensor<float>(pixels, [count, 3, size, size]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor(ClassifierOnnxExporter.InputName, input)]);
        return (results.Single(r => r.Name == ClassifierOnnxExporter.ScoresName).AsEnumerable<float>().ToArray(),
            results.Single(r => r.Name == ClassifierOnnxExporter.PredictedIndexName).AsEnumerable<long>().ToArray());
    }

    private void AssertMatchesPredict(string kind, float[] scores, long[] index)
    {
        var labels = TrainedClassifiers.Labels(models.Onnx[kind]);
        var expected = models.Predictions[kind];
        Assert.Equal(expected.Count * labels.Length, scores.Length);
        for (var i = 0; i < expected.Count; i++)
        {
            for (var k = 0; k < labels.Length; k++)
            {
                var difference = Math.Abs(expected[i].Scores[labels[k]] - scores[i * labels.Length + k]);
                Assert.True(difference <= Tolerance, $"{kind}, {Path.GetFileName(models.Images[i])}, {labels[k]}: effnet predict {expected[i].Scores[labels[k]]}, ONNX {scores[i * labels.Length + k]}");
            }
            Assert.Equal(expected[i].Label, labels[index[i]]);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Onnx_runtime_reproduces_effnet_predict_scores(string kind)
    {
        var (scores, index) = RunOrt(models.Onnx[kind], models.Pixels, models.Images.Count, models.InputSize);
        AssertMatchesPredict(kind, scores, index);
        Assert.Equal(["checkers", "discs", "stripes"], TrainedClassifiers.Labels(models.Onnx[kind]));
        // A model whose scores ignore the image would make this comparison vacuous.
        var first = models.Predictions[kind][0].Scores;
        Assert.Contains(models.Predictions[kind], p => p.Scores.Any(s => Math.Abs(s.Value - first[s.Key]) > 0.01));
    }

    [Theory]
    [InlineData("sdca")]
    [InlineData("lbfgs")]
    [InlineData("lightgbm")]
    public void The_comparison_would_catch_a_wrong_mean_or_swapped_colour_channels(string kind)
    {
        // The same check must fail on pixels prepared wrongly, or it could not catch a preprocessing mistake.
        var shifted = models.Pixels.Select(p => p + 8f).ToArray();   // a mean off by 8/255
        var (scores, index) = RunOrt(models.Onnx[kind], shifted, models.Images.Count, models.InputSize);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertMatchesPredict(kind, scores, index));

        var plane = models.InputSize * models.InputSize;
        var bgr = (float[])models.Pixels.Clone();
        for (var image = 0; image < models.Images.Count; image++)
        {
            var start = image * 3 * plane;
            Array.Copy(models.Pixels, start, bgr, start + 2 * plane, plane);
            Array.Copy(models.Pixels, start + 2 * plane, bgr, start, plane);
        }
        (scores, index) = RunOrt(models.Onnx[kind], bgr, models.Images.Count, models.InputSize);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertMatchesPredict(kind, scores, index));
    }

    [Fact]
    public void The_library_call_writes_the_same_model_with_documented_inputs_outputs_and_labels()
    {
        var path = models.File("library.onnx");
        ClassifierOnnxExporter.Save(new MLContext(0), models.Models["lightgbm"], path);
        Assert.Equal(File.ReadAllBytes(models.Onnx["lightgbm"]), File.ReadAllBytes(path));

        var onnx = global::Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(path));
        var input = Assert.Single(onnx.Graph.Input);
        Assert.Equal("pixels", input.Name);
        Assert.Equal((int)global::Onnx.TensorProto.Types.DataType.Float, input.Type.TensorType.ElemType);
        Assert.Equal(["N", "3", "256", "256"], input.Type.TensorType.Shape.Dim.Select(d => d.DimParam.Length > 0 ? d.DimParam : d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(["scores", "predicted_index"], onnx.Graph.Output.Select(o => o.Name));
        Assert.Equal((int)global::Onnx.TensorProto.Types.DataType.Int64, onnx.Graph.Output[1].Type.TensorType.ElemType);
        Assert.Equal(3, onnx.Graph.Output[0].Type.TensorType.Shape.Dim[1].DimValue);
        Assert.Equal("[\"checkers\",\"discs\",\"stripes\"]", TrainedClassifiers.Metadata(path)["labels"]);
        Assert.Equal("b0", TrainedClassifiers.Metadata(path)["effnet.variant"]);

        // classifier.json: what onnxruntime-node cannot read from the graph, beside the file, from the
        // library call and from effnet export alike. Mutation: labels from another model's metadata -> fails.
        foreach (var onnxPath in new[] { path, models.Onnx["lightgbm"] })
        {
            var sidecar = JsonDocument.Parse(File.ReadAllText(ClassifierOnnxExporter.SidecarPath(onnxPath))).RootElement;
            Assert.Equal(["checkers", "discs", "stripes"], sidecar.GetProperty("labels").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(256, sidecar.GetProperty("inputSize").GetInt32());
            Assert.Equal("pixels", sidecar.GetProperty("input").GetProperty("name").GetString());
            Assert.Contains("Mitchell", sidecar.GetProperty("preprocessing").GetProperty("filter").GetString());
        }
    }

    [Fact]
    public void Node_onnxruntime_reproduces_effnet_predict_scores()
    {
        var node = NodeOnnxRuntime.EnsureInstalled();
        var pixelsFile = models.File("pixels.bin");
        File.WriteAllBytes(pixelsFile, System.Runtime.InteropServices.MemoryMarshal.AsBytes(models.Pixels.AsSpan()).ToArray());
        foreach (var kind in TrainedClassifiers.Kinds)
        {
            var (code, stdout, stderr) = ProcessRunner.Run("node",
                [NodeOnnxRuntime.Script, models.Onnx[kind], pixelsFile, models.Images.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), models.InputSize.ToString(System.Globalization.CultureInfo.InvariantCulture)],
                new Dictionary<string, string> { ["NODE_PATH"] = node });
            Assert.True(code == 0, stderr);
            var result = JsonDocument.Parse(stdout).RootElement;
            AssertMatchesPredict(kind,
                result.GetProperty("scores").EnumerateArray().Select(e => e.GetSingle()).ToArray(),
                result.GetProperty("predicted_index").EnumerateArray().Select(e => e.GetInt64()).ToArray());
        }
    }

    [Fact]
    public void The_onnx_checker_accepts_every_exported_model()
    {
        var check = "import onnx, sys\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint('ok', onnx.__version__)";
        var (code, stdout, stderr) = ProcessRunner.Run("/usr/bin/python3", ["-c", check, .. TrainedClassifiers.Kinds.Select(k => models.Onnx[k])]);
        Assert.False(stderr.Contains("No module named 'onnx'"), "The checker needs Debian's python3-onnx (tests/run-tests.sh installs it): apt-get install python3-onnx");
        Assert.True(code == 0, stderr);
        Assert.StartsWith("ok", stdout);
    }

    [Fact]
    public void Export_model_errors_name_the_problem()
    {
        var mixed = CliTests.Effnet("export", "--model", models.Models["sdca"], "--variant", "b3", "--out", models.File("x.onnx"));
        Assert.Equal(2, mixed.Code);
        Assert.Contains("--model exports the trained classifier", mixed.Err.ReplaceLineEndings(" "));

        var notAModel = models.File("not-a-model.zip");
        File.WriteAllText(notAModel, "hello");
        var bad = CliTests.Effnet("export", "--model", notAModel, "--out", models.File("y.onnx"));
        Assert.Equal(3, bad.Code);
        Assert.Contains("not-a-model.zip", bad.Err);
        Assert.DoesNotContain("   at ", bad.Err);
        Assert.False(File.Exists(models.File("y.onnx")));

        var exists = CliTests.Effnet("export", "--model", models.Models["sdca"], "--out", models.Onnx["sdca"]);
        Assert.Equal(2, exists.Code);
        Assert.Contains("--force", exists.Err);
    }
}

/// <summary>onnxruntime-node from npm, installed once into the test output folder (never globally).</summary>
internal static class NodeOnnxRuntime
{
    public const string Version = "1.30.0";

    private static readonly Lazy<string> Installed = new(Install);

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Fixtures", "run_classifier.js");

    /// <summary>The node_modules folder holding onnxruntime-node.</summary>
    public static string EnsureInstalled() => Installed.Value;

    private static string Install()
    {
        var prefix = Path.Combine(AppContext.BaseDirectory, "npm-onnxruntime-node");
        var modules = Path.Combine(prefix, "node_modules");
        var package = Path.Combine(modules, "onnxruntime-node", "package.json");
        if (File.Exists(package) && File.ReadAllText(package).Contains($"\"version\": \"{Version}\"")) return modules;
        Directory.CreateDirectory(prefix);
        // --ignore-scripts: the install script only fetches GPU libraries; the CPU runtime ships in the package.
        var (code, stdout, stderr) = ProcessRunner.Run("npm",
            ["install", "--prefix", prefix, $"onnxruntime-node@{Version}", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts"]);
        Assert.True(code == 0, $"npm install onnxruntime-node@{Version} failed:\n{stdout}\n{stderr}");
        return modules;
    }
}
