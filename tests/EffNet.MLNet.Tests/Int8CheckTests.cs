using System.Text.Json;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Onnx.Quantization;
using EffNet.MLNet.Training;
using Google.Protobuf;
using Onnx;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The int8 check: int8 scored against fp32 on calibration images held out from calibration, blocks kept in float
/// by measured sensitivity until the target is met, or fp32 with a warning. Two independently calibrated B0s: the
/// photo-calibrated one (batch-norm statistics from scikit-image photos) and the parity fixtures' (statistics from
/// smooth synthetic images); calibrated on scikit-image photos and camera wallpapers, scored on others.
/// </summary>
public class Int8CheckTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly Int8Target KeepInt8 = new() { MedianCosine = 0.01, FifthPercentileCosine = 0.01, MaxFloatLayers = 0 };

    private static string Network(string name) => name == "photo" ? PhotoFixtures.B0 : TorchvisionFixtures.File("b0.pth");

    /// <summary>
    /// The figures the check reports are int8 against fp32 on the held-out quarter, recomputed here; the ranges come
    /// from the other three quarters only (the graph is rebuilt from them, byte for byte).
    /// Mutation: Int8Calibration scores the check on the calibrating images instead of the held-out ones -> fails (reported
    /// median 0.9821, recomputed on the held-out images 0.9919).
    /// Mutation: Int8Calibration calibrates on every image, held-out ones included -> fails (the graph differs).
    /// </summary>
    [Fact]
    public void The_check_scores_a_seeded_held_out_quarter_that_calibration_never_saw()
    {
        var images = PhotoFixtures.CalibrationWithWallpapers;
        var fp32 = Resolve("smooth", Precision.Float32, null, null);
        var int8 = Resolve("smooth", Precision.Int8, images, KeepInt8);
        var check = int8.Int8Fidelity!;
        Assert.Equal(Precision.Int8, int8.Precision);
        Assert.Equal(images.Count / 4, check.HeldOutImages.Count);
        Assert.Equal(images.Count - images.Count / 4, check.CalibratedOn);
        Assert.Subset(images.ToHashSet(), check.HeldOutImages.ToHashSet());
        var calibrating = images.Except(check.HeldOutImages).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(check.CalibratedOn, calibrating.Count);
        // Seeded: the same quarter whatever the order the images come in.
        Assert.Equal(check.HeldOutImages, Int8Calibration.Split([.. images.Order(StringComparer.Ordinal)]).HeldOut);
        Assert.Contains($"-{calibrating.Count}-images-", int8.Identity);

        var reference = Features(fp32, check.HeldOutImages);
        var measured = Features(int8, check.HeldOutImages);
        var cosines = FeatureCosines.Of(measured, reference);
        output.WriteLine($"held out {string.Join(", ", check.HeldOutImages.Select(Path.GetFileName))}: reported {check.MedianCosine:F5}/{check.FifthPercentileCosine:F5}/{check.WorstCosine:F5}, recomputed {cosines}");
        Assert.Equal(cosines.Median, check.MedianCosine, 4);
        Assert.Equal(cosines.FifthPercentile, check.FifthPercentileCosine, 4);
        Assert.Equal(cosines.Worst, check.WorstCosine, 4);
        Assert.Equal(check.AllInt8MedianCosine, check.MedianCosine);

        var pixels = calibrating.Select(p => Pixels(fp32, p)).ToList();
        var rebuilt = Int8Quantizer.Apply(fp32.Graph, Int8Quantizer.Calibrate(fp32.Graph, pixels, CalibrationMethod.LeastSquares), [],
            $"leastsquares over {calibrating.Count} images");
        Assert.True(rebuilt.ToByteArray().AsSpan().SequenceEqual(int8.ToBytes()), "the int8 graph is not the one calibrated on the three calibrating quarters alone");
    }

    /// <summary>
    /// Two independently calibrated networks, the default target: each either meets it, measured on its held-out images
    /// (with at most 3 blocks in float), or runs in fp32. Then both are scored on photos outside any calibration sample:
    /// camera wallpapers like the calibration ones must stay near the promised median; scikit-image's grey microscope and
    /// astronomy photos, unlike any calibration image, are only reported (the check speaks for images like the sample).
    /// Mutation: Int8FidelityCheck.Run returns the all-int8 graph whatever its figures (skip the check) -> fails for "photo":
    /// int8 kept at a held-out median of 0.9023; outside calibration its worst wallpaper then reads 0.823 (cell.png 0.594).
    /// </summary>
    [Theory]
    [InlineData("photo")]
    [InlineData("smooth")]
    public void Each_network_meets_the_default_target_on_photos_outside_calibration_or_runs_in_fp32(string network)
    {
        var fp32 = Resolve(network, Precision.Float32, null, null);
        var int8 = Resolve(network, Precision.Int8, PhotoFixtures.CalibrationWithWallpapers, null);
        var check = int8.Int8Fidelity!;
        output.WriteLine($"{network}: all int8 {check.AllInt8MedianCosine:F4}/{check.AllInt8FifthPercentileCosine:F4}; chosen {check.MedianCosine:F4}/{check.FifthPercentileCosine:F4}/{check.WorstCosine:F4}, " +
            $"float [{string.Join(", ", check.FloatLayers)}], fell back {check.FellBackToFloat32}. {check.Warning}");
        var photos = PhotoFixtures.ScoringWithWallpapers;
        Assert.Empty(photos.Intersect(PhotoFixtures.CalibrationWithWallpapers));
        var a = Features(fp32, photos);
        var b = Features(int8, photos);
        var cosines = photos.Select((p, i) => (Name: Path.GetFileName(p), Cosine: FeatureCosines.Of([b[i]], [a[i]]).Median)).ToList();
        output.WriteLine(string.Join(", ", cosines.Select(c => $"{c.Name} {c.Cosine:F4}")));
        if (check.FellBackToFloat32)
        {
            Assert.Equal(Precision.Float32, int8.Precision);
            Assert.Equal(fp32.Identity, int8.Identity);
            Assert.All(cosines, c => Assert.Equal(1.0, c.Cosine, 12));
            return;
        }
        Assert.Equal(Precision.Int8, int8.Precision);
        Assert.True(check.MedianCosine >= 0.99 && check.FifthPercentileCosine >= 0.95, $"reported {check.MedianCosine:F4}/{check.FifthPercentileCosine:F4} miss the target yet int8 is kept");
        Assert.InRange(check.FloatLayers.Count, 0, 3);
        var wallpapers = cosines.Where(c => PhotoFixtures.ScoringWallpapers.Contains(c.Name)).Select(c => c.Cosine).Order().ToList();
        Assert.True(wallpapers[wallpapers.Count / 2] >= 0.98, $"median cosine {wallpapers[wallpapers.Count / 2]:F4} on camera photos outside calibration, promised {check.MedianCosine:F4} on the held-out ones");
        // Three held-out images promise less about the worst case: the smooth network's worst wallpaper measured 0.924.
        Assert.True(wallpapers[0] >= 0.90, $"worst cosine {wallpapers[0]:F4} on camera photos outside calibration");
    }

    /// <summary>
    /// A target int8 cannot reach within the budget (cosine 1 with one block in float): fp32 output, fp32 identity,
    /// and one warning line naming the measured figures.
    /// Mutation: Int8FidelityCheck.Run returns the best int8 graph tried instead of null when the budget is spent -> fails (no fall-back).
    /// </summary>
    [Fact]
    public void An_unreachable_target_falls_back_to_fp32_with_a_warning_naming_the_figures()
    {
        var fp32 = Resolve("smooth", Precision.Float32, null, null);
        var int8 = Resolve("smooth", Precision.Int8, PhotoFixtures.CalibrationWithWallpapers, new Int8Target { MedianCosine = 1, FifthPercentileCosine = 1, MaxFloatLayers = 1 });
        var check = int8.Int8Fidelity!;
        output.WriteLine(check.Warning ?? "no warning");
        Assert.True(check.FellBackToFloat32);
        Assert.Equal(Precision.Float32, int8.Precision);
        Assert.Equal(fp32.Identity, int8.Identity);
        Assert.Null(int8.Calibration);
        Assert.True(fp32.ToBytes().AsSpan().SequenceEqual(int8.ToBytes()), "the fall-back graph is not the fp32 one");
        Assert.Empty(check.FloatLayers);
        var warning = Assert.IsType<string>(check.Warning);
        Assert.DoesNotContain('\n', warning);
        Assert.StartsWith("int8 missed its target on 3 held-out images", warning);
        Assert.Contains(check.AllInt8MedianCosine.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), warning);
        Assert.Contains(check.MedianCosine.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture), warning);
        Assert.Contains("with 1 of 12 blocks in float", warning);
        Assert.EndsWith("so the backbone runs in fp32.", warning);
        Assert.True(check.MedianCosine > check.AllInt8MedianCosine || check.FifthPercentileCosine > check.AllInt8FifthPercentileCosine,
            "the block kept in float gained nothing");
    }

    /// <summary>
    /// A target between the all-int8 figure and fp32: blocks are kept in float until it is met, those blocks' convolutions
    /// really run in float (the rest in int8), the identity names them, and model.json's backbone records them with the figures.
    /// Mutation: Int8FidelityCheck.Run falls back as soon as the all-int8 graph misses (no block kept in float) -> fails.
    /// Mutation: QdqRewriter quantizes a convolution whenever its input is quantized (the code this test was written
    /// against) -> failed: block6a_expand_conv kept int8 weights in a block kept in float.
    /// </summary>
    [Fact]
    public void Blocks_kept_in_float_meet_a_target_all_int8_misses_and_model_json_records_them()
    {
        var allInt8 = Resolve("photo", Precision.Int8, PhotoFixtures.CalibrationWithWallpapers, KeepInt8).Int8Fidelity!;
        var target = new Int8Target
        {
            MedianCosine = allInt8.AllInt8MedianCosine + (1 - allInt8.AllInt8MedianCosine) / 2, FifthPercentileCosine = 0.01, MaxFloatLayers = 12,
        };
        var int8 = Resolve("photo", Precision.Int8, PhotoFixtures.CalibrationWithWallpapers, target);
        var check = int8.Int8Fidelity!;
        output.WriteLine($"all int8 median {allInt8.AllInt8MedianCosine:F4}, target {target.MedianCosine:F4}: {check.MedianCosine:F4} with [{string.Join(", ", check.FloatLayers)}]");
        Assert.False(check.FellBackToFloat32);
        Assert.Equal(Precision.Int8, int8.Precision);
        Assert.InRange(check.FloatLayers.Count, 1, 11);
        Assert.True(check.MedianCosine >= target.MedianCosine);
        var blocks = QuantizationLayout.Blocks(Resolve("photo", Precision.Float32, null, null).Graph.Graph);
        Assert.Equal(12, blocks.Count);
        Assert.Subset(blocks.ToHashSet(), check.FloatLayers.ToHashSet());
        Assert.Equal(check.FloatLayers.Count, check.FloatLayers.Distinct().Count());
        Assert.EndsWith("-float-" + string.Join("+", check.FloatLayers), int8.Calibration);

        var graph = int8.Graph.Graph;
        foreach (var conv in graph.Node.Where(n => n.OpType == "Conv" && blocks.Contains(QuantizationLayout.BlockOf(n.Name))))
        {
            var int8Weights = graph.Node.Any(n => n.OpType == "DequantizeLinear" && n.Output.Contains(conv.Input[1]));
            Assert.True(int8Weights != check.FloatLayers.Contains(QuantizationLayout.BlockOf(conv.Name)), $"{conv.Name}: int8 weights {int8Weights}");
        }

        var json = JsonDocument.Parse(JsonSerializer.Serialize(BackboneReport.From(int8), ModelReport.Json)).RootElement;
        Assert.Equal("int8", json.GetProperty("precision").GetString());
        var recorded = json.GetProperty("int8Check");
        Assert.Equal(check.FloatLayers, recorded.GetProperty("floatLayers").EnumerateArray().Select(e => e.GetString()!).ToList());
        Assert.Equal(target.MedianCosine, recorded.GetProperty("targetMedianCosine").GetDouble());
        Assert.Equal(check.MedianCosine, recorded.GetProperty("medianCosine").GetDouble());
        Assert.Equal(check.WorstCosine, recorded.GetProperty("worstCosine").GetDouble());
        Assert.Equal(3, recorded.GetProperty("heldOutImages").GetArrayLength());
        Assert.False(recorded.GetProperty("fellBackToFloat32").GetBoolean());
    }

    /// <summary>
    /// The CLI: train --precision int8 with a target it cannot reach warns on stderr and records the fall-back in model.json;
    /// featurize prints the measured figures.
    /// Mutation: PrecisionOption.Print drops the warning -> fails (stderr empty).
    /// </summary>
    [Fact]
    public void Cli_warns_of_the_fall_back_records_it_in_model_json_and_prints_the_figures()
    {
        using var dir = new TempDir();
        var data = SampleData.CopyFirst(Path.Combine(dir.Path, "data"), perLabel: 4);
        var home = Path.Combine(dir.Path, "home");
        var model = dir.File("model.zip");
        var train = CliTests.EffnetWithHome(home, "train", "--data", data, "--out", model, "--random-init", "--precision", "int8", "--int8-target", "1,1",
            "--int8-max-float", "0", "--trainer", "sdca", "--quiet");
        Assert.True(train.Code == 0, train.Err);
        Assert.Contains("warning: int8 missed its target on 3 held-out images", train.Err);
        var backbone = JsonDocument.Parse(File.ReadAllText(dir.File("model.json"))).RootElement.GetProperty("backbone");
        Assert.Equal("fp32", backbone.GetProperty("precision").GetString());
        Assert.DoesNotContain("precision=int8", backbone.GetProperty("identity").GetString());
        var check = backbone.GetProperty("int8Check");
        Assert.True(check.GetProperty("fellBackToFloat32").GetBoolean());
        Assert.Equal(1.0, check.GetProperty("targetMedianCosine").GetDouble());
        Assert.Equal(0, check.GetProperty("maxFloatLayers").GetInt32());
        Assert.StartsWith("int8 missed its target", check.GetProperty("warning").GetString());

        var featurize = CliTests.EffnetWithHome(home, "featurize", "--data", data, "--out", dir.File("f.csv"), "--random-init", "--precision", "int8", "--int8-target", "0.5,0.5");
        Assert.True(featurize.Code == 0, featurize.Err);
        Assert.Matches(@"int8 check: median cosine \d\.\d{4}, 5th percentile \d\.\d{4}, worst \d\.\d{4} against fp32 on 3 held-out images \(target 0\.5 / 0\.5\); 0 blocks kept in float\.", featurize.Out);
    }

    [Theory]
    [InlineData("train", "--int8-target", "0.99,0.95")]
    [InlineData("train", "--precision", "int8", "--int8-target", "1.5,0.9")]
    [InlineData("featurize", "--precision", "int8", "--int8-target", "0.99")]
    [InlineData("train", "--precision", "int8", "--int8-max-float", "-1")]
    public void Bad_int8_target_options_exit_2_naming_the_option(params string[] args)
    {
        var extra = args[0] == "featurize" ? new[] { "--out", "x.csv" } : [];
        var (code, _, err) = CliTests.Effnet([args[0], "--random-init", "--data", SampleData.Folder, .. extra, .. args[1..]]);
        Assert.Equal(2, code);
        Assert.Contains("--int8-", err);
    }

    private static EfficientNetBackbone Resolve(string network, Precision precision, IReadOnlyList<string>? calibration, Int8Target? target) =>
        EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions
        {
            Variant = "b0", WeightsPath = Network(network), Precision = precision, CalibrationImages = calibration, Int8Target = target,
        });

    private static float[] Pixels(EfficientNetBackbone backbone, string path)
    {
        var pixels = new float[3 * backbone.ResizeSize * backbone.ResizeSize];
        backbone.Preparation.Decode(path, pixels, acceptTruncated: false);
        return pixels;
    }

    private static List<float[]> Features(EfficientNetBackbone backbone, IReadOnlyList<string> images)
    {
        using var session = new FeatureSession(backbone.ToBytes(), intraOpThreads: 0);
        return images.Select(path => session.Run(Pixels(backbone, path), 1)).ToList();
    }
}
