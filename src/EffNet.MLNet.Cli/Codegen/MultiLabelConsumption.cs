using System.Globalization;

namespace EffNet.MLNet.Cli.Codegen;

/// <summary>
/// The generated ModelOutput and ImageModel of a multi-label model: the model's <c>Probability</c> vector, the labels at or
/// over their thresholds (model.json's, written in as constants), through a stock ML.NET prediction engine. The web project serves the model through AddImageClassifier,
/// which reads the same thresholds from the model.json copied beside it.
/// </summary>
internal static class MultiLabelConsumption
{
    public static string ModelOutput(ConsumptionModel m, string header) => header + $$"""
        namespace {{m.Namespace}};

        /// <summary>A label's probability and the threshold it is judged against.</summary>
        public sealed record LabelProbability(string Label, float Probability, float Threshold)
        {
            /// <summary>Whether the image carries the label: the probability is at or over the threshold.</summary>
            public bool Predicted => Probability >= Threshold;
        }

        /// <summary>One image's prediction by the multi-label model.</summary>
        public sealed class ModelOutput
        {
            /// <summary>The labels at or over their thresholds, most probable first (none when <see cref="Error"/> is set).</summary>
            public IReadOnlyList<string> PredictedLabels { get; init; } = [];

            /// <summary>Probabilities in the order of <see cref="ImageModel.Labels"/>.</summary>
            public float[] Probability { get; init; } = [];

            /// <summary>Every label with its probability and threshold, most probable first.</summary>
            public IReadOnlyList<LabelProbability> Probabilities { get; init; } = [];

            /// <summary>From <see cref="ImageModel.PredictAll"/>: why this image could not be classified; null otherwise.</summary>
            public string? Error { get; init; }
        }

        """;

    public static string ImageModel(ConsumptionModel m, string header)
    {
        var labels = string.Join(",\n", m.Labels.Select(l => "        " + CSharpText.Literal(l)));
        var thresholds = string.Join(",\n", m.Thresholds!.Select(t => "        " + t.ToString("R", CultureInfo.InvariantCulture) + "f"));
        return header + $$"""
            using EffNet.MLNet.Imaging;
            using Microsoft.ML;

            namespace {{m.Namespace}};

            /// <summary>
            /// The trained multi-label image classifier. Thread-safe: the model is loaded once, on first use; each thread
            /// gets its own stock ML.NET prediction engine over it.
            /// </summary>
            public static class ImageModel
            {
                /// <summary>The model file, copied to the output folder of every project that references this one.</summary>
                public static string ModelPath { get; } = Path.Combine(AppContext.BaseDirectory, {{CSharpText.Literal(m.ModelFile)}});

                // Declared after ModelPath: static initializers run in order.
                private static readonly MLContext Context = new();
                private static readonly Lazy<ITransformer> Model = new(() => Context.Model.Load(ModelPath, out _), LazyThreadSafetyMode.ExecutionAndPublication);
                private static readonly ThreadLocal<PredictionEngine<PathRow, ProbabilityRow>> Engine =
                    new(() => Context.Model.CreatePredictionEngine<PathRow, ProbabilityRow>(Model.Value));

                /// <summary>The labels, in the order of <see cref="ModelOutput.Probability"/>.</summary>
                public static IReadOnlyList<string> Labels { get; } =
                [
            {{labels}},
                ];

                /// <summary>Per label (same order): the image carries it at or over this probability; chosen on the validation split, as model.json records.</summary>
                public static IReadOnlyList<float> Thresholds { get; } =
                [
            {{thresholds}},
                ];

                /// <summary>Classify one image file (this model reads files: set <see cref="ModelInput.ImagePath"/>).</summary>
                /// <exception cref="BadImageException">The image is empty, not an image, truncated, corrupt or too large.</exception>
                public static ModelOutput Predict(ModelInput input)
                {
                    ArgumentNullException.ThrowIfNull(input);
                    var path = input.ImagePath ?? throw new ArgumentException("This model reads image files: set ModelInput.ImagePath.", nameof(input));
                    // ML.NET's decoder fails on a bad image without naming it: each image is checked first.
                    if (ImageCheck.Inspect(path) is { } problem) throw new BadImageException(path, problem.Reason);
                    var probability = Engine.Value!.Predict(new PathRow { ImagePath = path }).Probability;
                    if (probability.Length != Labels.Count)
                        throw new InvalidOperationException($"The model at '{ModelPath}' gives {probability.Length} probabilities for {Labels.Count} labels; run effnet codegen again for this model.");
                    var all = probability.Select((p, i) => new LabelProbability(Labels[i], p, Thresholds[i])).OrderByDescending(p => p.Probability).ToList();
                    return new ModelOutput { Probability = probability, Probabilities = all, PredictedLabels = all.Where(p => p.Predicted).Select(p => p.Label).ToList() };
                }

                {{ConsumptionProject.FileAndBatchPredict}}

                private sealed class PathRow
                {
                    public string ImagePath { get; set; } = "";
                }

                private sealed class ProbabilityRow
                {
                    public float[] Probability { get; set; } = [];
                }
            }

            """;
    }
}
