using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

/// <summary>Options of the commands that read image files: what to do with unusable and truncated ones.</summary>
internal abstract class DatasetSettings : CommandSettings
{
    [CommandOption("--on-bad-image <skip|fail>")]
    [Description(BadImages.Description)]
    [DefaultValue("skip")]
    public string OnBadImage { get; init; } = "skip";

    [CommandOption("--accept-truncated")]
    [Description(BadImages.AcceptTruncatedDescription)]
    [DefaultValue(false)]
    public bool AcceptTruncated { get; init; }

    public bool FailOnBadImage => OnBadImage == "fail";

    public override ValidationResult Validate() => BadImages.Validate(OnBadImage);
}
