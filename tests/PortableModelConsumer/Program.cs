// A user's program with stock ML.NET only. Loads a model.zip and prints, per image,
// "path<TAB>PredictedLabel<TAB>score0,score1,…" (scores round-trip exactly).
//   PortableModelConsumer model.zip IMAGE…            a model that reads image paths (effnet train, the estimator)
//   PortableModelConsumer --bytes model.zip IMAGE…    a model saved with ImageInputModel.Save: each image's bytes, in memory
//   PortableModelConsumer --multi-label model.zip IMAGE…   a multi-label model: "path<TAB>slot names<TAB>probabilities"
using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

if (args[0] == "--multi-label")
{
    MultiLabel.Run(args[1], args[2..]);
    return;
}
var fromBytes = args[0] == "--bytes";
var rest = fromBytes ? args[1..] : args;
var ml = new MLContext();
var model = ml.Model.Load(rest[0], out _);
var pathEngine = fromBytes ? null : ml.Model.CreatePredictionEngine<Input, Output>(model);
var byteEngine = fromBytes ? ml.Model.CreatePredictionEngine<ModelInput, ModelOutput>(model) : null;
foreach (var image in rest.Skip(1))
{
    var (label, score) = fromBytes ? PredictBytes(byteEngine!, File.ReadAllBytes(image)) : Predict(pathEngine!, image);
    Console.WriteLine($"{image}\t{label}\t{string.Join(",", score.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))}");
}

static (string, float[]) Predict(PredictionEngine<Input, Output> engine, string path)
{
    var p = engine.Predict(new Input { ImagePath = path });
    return (p.PredictedLabel, p.Score);
}

static (string, float[]) PredictBytes(PredictionEngine<ModelInput, ModelOutput> engine, byte[] bytes)
{
    // <readme name="stock-bytes">
    // readme: using Microsoft.ML.Data;   // MLImage
    // readme:
    using var image = MLImage.CreateFromStream(new MemoryStream(bytes));
    var prediction = engine.Predict(new ModelInput { Image = image });
    // </readme>
    return (prediction.PredictedLabel, prediction.Score);
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

// <readme name="stock-bytes-classes">
// readme: using Microsoft.ML.Data;   // ImageType, MLImage
// readme:
public sealed class ModelInput
{
    [ImageType(224, 224)]   // any size: the model resizes and crops
    public MLImage Image { get; set; } = null!;
}

public sealed class ModelOutput
{
    public string PredictedLabel { get; set; } = "";
    public float[] Score { get; set; } = [];
}
// </readme>

// A multi-label model's one output: a Probability vector whose slot names are the labels.
internal static class MultiLabel
{
    public static void Run(string modelPath, string[] images)
    {
        var ml = new MLContext();
        var model = ml.Model.Load(modelPath, out var inputSchema);
        var output = model.GetOutputSchema(inputSchema)["Probability"];
        VBuffer<ReadOnlyMemory<char>> names = default;
        output.GetSlotNames(ref names);
        var labels = string.Join(",", names.DenseValues().Select(n => n.ToString()));
        var engine = ml.Model.CreatePredictionEngine<Input, MultiLabelOutput>(model);
        foreach (var image in images)
        {
            var p = engine.Predict(new Input { ImagePath = image });
            Console.WriteLine($"{image}\t{labels}\t{string.Join(",", p.Probability.Select(s => s.ToString("R", CultureInfo.InvariantCulture)))}");
        }
    }
}

public sealed class MultiLabelOutput
{
    public float[] Probability { get; set; } = [];
}
