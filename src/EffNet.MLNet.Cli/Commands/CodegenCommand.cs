using System.ComponentModel;
using EffNet.MLNet.Cli.Codegen;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>effnet codegen: the consumption code Model Builder would hand its user, for a model effnet trained.</summary>
internal sealed class CodegenCommand : Command<CodegenCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--model <FILE>")]
        [Description("A model .zip made by effnet train (its model.json beside it names the labels).")]
        [DefaultValue("model.zip")]
        public string Model { get; init; } = "model.zip";

        [CommandOption("--out <DIR>")]
        [Description("Folder for the generated projects and their README; must be empty or absent unless --force.")]
        public string? Out { get; init; }

        [CommandOption("--namespace <NAME>")]
        [Description("Namespace and project name of the class library. Default: made from the --out folder's name.")]
        public string? Namespace { get; init; }

        [CommandOption("--web")]
        [Description("Also generate a minimal ASP.NET Core API (NAME.Web) serving the model at POST /classify.")]
        [DefaultValue(false)]
        public bool Web { get; init; }

        [CommandOption("--package-version <VERSION>")]
        [Description("Version of the EffNet.MLNet packages the projects reference. Default: this effnet's version.")]
        public string? PackageVersion { get; init; }

        [CommandOption("--force")]
        [Description("Write into a non-empty --out: generated files are replaced, every other file is left as it is.")]
        [DefaultValue(false)]
        public bool Force { get; init; }

        public override ValidationResult Validate()
        {
            if (string.IsNullOrWhiteSpace(Out)) return ValidationResult.Error("--out DIR is required: the folder to generate the projects in.");
            if (Namespace is not null && CSharpText.NamespaceProblem(Namespace) is { } problem) return ValidationResult.Error(problem);
            if (PackageVersion is not null && !CSharpText.IsPackageVersion(PackageVersion))
                return ValidationResult.Error($"--package-version '{InertText.Name(PackageVersion)}' is not a NuGet version (like 0.3.0 or 0.3.0-local.20260101120000).");
            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings s, CancellationToken cancellationToken)
    {
        var modelPath = Path.GetFullPath(ModelFiles.Existing(s.Model));
        var multiLabel = MultiLabel.MultiLabelCommands.IsMultiLabel(modelPath);
        var output = Path.GetFullPath(s.Out!);
        if (File.Exists(output)) throw new ArgumentException($"--out '{output}' is a file; name a folder.");
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any() && !s.Force)
            throw new ArgumentException($"'{output}' is not empty; pass --force to write into it (generated files are replaced, others kept), or choose another --out.");
        var ns = s.Namespace ?? CSharpText.NamespaceFrom(Path.GetFileName(output.TrimEnd(Path.DirectorySeparatorChar)));
        var model = multiLabel
            ? DescribeMultiLabel(modelPath, ns, s.PackageVersion ?? ToolVersion.Current)
            : Describe(modelPath, ns, s.PackageVersion ?? ToolVersion.Current);
        cancellationToken.ThrowIfCancellationRequested();

        foreach (var (relative, text) in ConsumptionProject.Files(model, s.Web))
        {
            var path = Path.Combine(output, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            AtomicFile.WriteAllText(path, text.Replace("\r\n", "\n", StringComparison.Ordinal));
        }
        CopyBeside(modelPath, Path.Combine(output, ns, model.ModelFile));
        var report = ModelFiles.ReportPath(modelPath);
        if (File.Exists(report)) CopyBeside(report, Path.Combine(output, ns, model.ReportFile));

        AnsiConsole.MarkupLine($"Generated [green]{Inert.Markup(Path.Combine(output, ns))}[/] (ModelInput, ModelOutput, ImageModel.Predict/PredictAll)" +
            (s.Web ? $" and [green]{Inert.Markup(Path.Combine(output, model.WebProject))}[/] (POST /classify)" : "") +
            $", referencing EffNet.MLNet {Inert.Markup(model.PackageVersion)}; {Inert.Markup(Path.Combine(output, "README.md"))} says how to add them to a solution.");
        return ExitCodes.Success;
    }

    /// <summary>Labels and input columns of the model, checked to be an image classifier first.</summary>
    private static ConsumptionModel Describe(string modelPath, string ns, string packageVersion)
    {
        using var predictor = new PooledPredictor(modelPath, new PooledPredictorOptions { WatchForChanges = false });
        var reportPath = ModelFiles.ReportPath(modelPath);
        var labels = File.Exists(reportPath) ? ModelFiles.LoadReport(modelPath).Labels : predictor.Labels;
        if (labels.Count == 0)
            throw new InvalidDataException($"'{modelPath}' names no classes and has no model.json beside it; the generated code needs the class names.");

        var ml = new MLContext(0);
        DataViewSchema? input;
        using (var stream = File.OpenRead(modelPath)) input = SavedModel.LoadWithSchema(ml, stream, modelPath).Input;
        var pathColumn = input?.FirstOrDefault(c => c.Type is TextDataViewType).Name;
        var imageColumn = pathColumn is null
            ? input?.FirstOrDefault(c => c.Type is ImageDataViewType).Name ?? ImageInputModel.DefaultImageColumn
            : null;
        return new ConsumptionModel(ns, labels, pathColumn, imageColumn, packageVersion, FileHash.Sha256(modelPath));
    }

    /// <summary>A multi-label model: labels and thresholds from its model.json; it reads image paths.</summary>
    private static ConsumptionModel DescribeMultiLabel(string modelPath, string ns, string packageVersion)
    {
        var report = MultiLabel.MultiLabelCommands.LoadReport(modelPath);
        MultiLabel.MultiLabelCommands.LoadModel(new MLContext(0), modelPath, report);
        return new ConsumptionModel(ns, report.Labels, "ImagePath", null, packageVersion, FileHash.Sha256(modelPath)) { Thresholds = report.Thresholds };
    }

    // The user's file is only read: copying a file onto itself (a --model already where it would go) is skipped.
    private static void CopyBeside(string source, string destination)
    {
        if (string.Equals(Path.GetFullPath(source), Path.GetFullPath(destination), StringComparison.Ordinal)) return;
        AtomicFile.Write(destination, target =>
        {
            using var from = File.OpenRead(source);
            from.CopyTo(target);
        });
    }
}
