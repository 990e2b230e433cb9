using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Architecture;
using Spectre.Console;
using Spectre.Console.Cli;

namespace EffNet.MLNet.Cli.Commands;

internal sealed class DescribeCommand : Command<DescribeCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[VARIANT]")]
        [Description("b0…b7, v2-s, v2-m, v2-l, lite0…lite4, phi=X or w=W,d=D,r=R. Default: b0 … b7.")]
        public string[] Variants { get; init; } = [];

        [CommandOption("--json")]
        [Description("Print a JSON array (keys: variant, resolution, width, depth, params, paramsNoHead, macs, featureDim).")]
        [DefaultValue(false)]
        public bool Json { get; init; }
    }

    internal sealed record Row(string Variant, int Resolution, double Width, double Depth, long Params, long ParamsNoHead, long Macs, int FeatureDim);

    internal static Row Describe(EfficientNetVariant v)
    {
        var a = EfficientNetArchitecture.For(v);
        return new Row(v.Name, v.Resolution, v.WidthMultiplier, v.DepthMultiplier,
            ArchitectureCost.Parameters(a), ArchitectureCost.Parameters(a, classes: 0), ArchitectureCost.MultiplyAdds(a), a.FeatureDimension);
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var variants = settings.Variants.Length == 0
            ? EfficientNetFamily.Published
            : settings.Variants.Select(EfficientNetVariant.Parse).ToList();
        var rows = variants.Select(Describe).ToList();
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(rows, CliJson.Options));
            return ExitCodes.Success;
        }
        var inv = CultureInfo.InvariantCulture;
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumns("variant", "res", "width", "depth", "params", "no head", "MACs", "dim");
        foreach (var c in table.Columns.Skip(1)) c.RightAligned();
        foreach (var r in rows)
            table.AddRow(r.Variant, r.Resolution.ToString(inv), r.Width.ToString("0.###", inv), r.Depth.ToString("0.###", inv),
                r.Params.ToString("N0", inv), r.ParamsNoHead.ToString("N0", inv), (r.Macs / 1e9).ToString("0.000", inv) + "B", r.FeatureDim.ToString(inv));
        table.Caption("params: with the 1000-class ImageNet head; MACs: multiply-adds at the variant's resolution; dim: feature size");
        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }
}
