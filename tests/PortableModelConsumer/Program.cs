// Loads a model.zip made by `effnet train` with stock ML.NET only and prints, per image,
// "path<TAB>PredictedLabel<TAB>score0,score1,…" (scores round-trip exactly).
using System.Globalization;
using Microsoft.ML;

var ml = new MLContext();
var model = ml.Model.Load(args[0], out var schema);
var engine = ml.Model.CreatePredictionEngine<Input, Output>(model);
foreach (var image in args.Skip(1))
{
    var p = engine.Predict(new Input { ImagePath = image });
    Console.WriteLine($"{image}\t{p.PredictedLabel}\t{string.Join(",", p.Score.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))}");
}

public sealed class Input
{
    public string ImagePath { get; set; } = "";
}

public sealed class Output
{
    public string PredictedLabel { get; set; } = "";
    public float[] Score { get; set; } = [];
}
