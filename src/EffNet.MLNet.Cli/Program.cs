using EffNet.MLNet.Cli;
using EffNet.MLNet.Cli.Commands;
using Spectre.Console.Cli;

return EffNetApp.Run(args);

namespace EffNet.MLNet.Cli
{
    /// <summary>The <c>effnet</c> command line.</summary>
    internal static class EffNetApp
    {
        /// <summary>Each command's settings class, for "did you mean" suggestions.</summary>
        public static readonly IReadOnlyDictionary<string, Type> SettingsByCommand = new Dictionary<string, Type>
        {
            ["describe"] = typeof(DescribeCommand.Settings),
            ["export"] = typeof(ExportCommand.Settings),
            ["train"] = typeof(TrainCommand.Settings),
            ["featurize"] = typeof(FeaturizeCommand.Settings),
            ["evaluate"] = typeof(EvaluateCommand.Settings),
            ["retrain"] = typeof(RetrainCommand.Settings),
            ["predict"] = typeof(PredictCommand.Settings),
            ["sweep"] = typeof(SweepCommand.Settings),
            ["codegen"] = typeof(CodegenCommand.Settings),
            ["merge"] = typeof(MergeCommand.Settings),
        };

        public static int Run(string[] args)
        {
            var app = new CommandApp();
            app.Configure(c =>
            {
                c.SetApplicationName("effnet");
                c.SetApplicationVersion(ToolVersion.Current);
                // Unknown options are errors (exit 2), never silently ignored.
                c.UseStrictParsing();
                c.AddExample("describe", "b0", "b3", "phi=1.5");
                c.AddExample("export", "--variant", "b0", "--weights", "efficientnet_b0.pth", "--out", "b0.onnx");
                c.AddCommand<DescribeCommand>("describe")
                    .WithDescription("Print resolution, multipliers, parameters, multiply-adds and feature size of EfficientNet variants.");
                c.AddCommand<ExportCommand>("export")
                    .WithDescription("Write an EfficientNet feature extractor as ONNX (input 'pixels' [[N,3,H,W]] RGB 0-255, output 'features' [[N,D]]).");
                c.AddCommand<TrainCommand>("train")
                    .WithDescription("Train an image classifier on a folder of labelled images (or a manifest); save model.zip and model.json.");
                c.AddCommand<FeaturizeCommand>("featurize")
                    .WithDescription("Write the features of every image (path, label, vector) to a .idv or .csv file that ML.NET loads back.");
                c.AddCommand<EvaluateCommand>("evaluate")
                    .WithDescription("Metrics of a trained model.zip on labelled images.");
                c.AddCommand<RetrainCommand>("retrain")
                    .WithDescription("Train again with a model's recorded settings on more images; only new images are featurized.");
                c.AddCommand<PredictCommand>("predict")
                    .WithDescription("Predict labels of images with a trained model.zip.");
                c.AddCommand<SweepCommand>("sweep")
                    .WithDescription("Compare EfficientNet variants on your images and this machine: accuracy, ms/image, size; write sweep.json and sweep.png and recommend one.");
                c.AddCommand<CodegenCommand>("codegen")
                    .WithDescription("Generate a class library (ModelInput, ModelOutput, thread-safe Predict) and optionally a web API for a trained model.zip.");
                c.AddCommand<MergeCommand>("merge")
                    .WithDescription("Merge the Parquet shards of effnet featurize --shard into one file (every shard present, one backbone, each image once).");
                c.AddExample("train", "--data", "sample-data", "--out", "model.zip", "--random-init");
                c.AddExample("predict", "--model", "model.zip", "sample-data/discs/discs-00.jpg");
                c.SetExceptionHandler((ex, _) => ErrorReporter.Report(ex, args));
            });
            RedirectedWidth.Apply();
            if (args.Length == 0 || args is ["--help"] or ["-h"])
                Spectre.Console.AnsiConsole.MarkupLine($"[grey]{Spectre.Console.Markup.Escape(ExitCodes.Help)}[/]");
            using var interrupt = new Interrupt();
            return app.Run(args, interrupt.Token);
        }
    }
}
