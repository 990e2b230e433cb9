using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>Options of the commands that read a dataset of image files: what to do with unreadable ones.</summary>
internal abstract class DatasetSettings : CommandSettings
{
    [CommandOption("--on-bad-image <skip|fail>")]
    [Description(BadImages.Description)]
    [DefaultValue("skip")]
    public string OnBadImage { get; init; } = "skip";

    public bool FailOnBadImage => OnBadImage == "fail";

    public override ValidationResult Validate() => BadImages.Validate(OnBadImage);
}
