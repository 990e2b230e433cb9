using System.Security.Cryptography;
using System.Text.Json;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Real photographs (scikit-image's, and 12–24 MP JPEGs made from them) with torchvision's own
/// evaluation transform applied and the features of the data-calibrated B0 on the result: made by
/// <c>make_torchvision_fixtures.py preprocess</c> into the temp directory, once per script version.
/// </summary>
internal sealed class PreprocessFixtures
{
    private static readonly Lazy<PreprocessFixtures> Generated = new(Generate, LazyThreadSafetyMode.ExecutionAndPublication);

    private PreprocessFixtures(string directory)
    {
        Directory = directory;
        Names = JsonSerializer.Deserialize<string[]>(File.ReadAllText(Path.Combine(directory, "preprocess.names.json")))!;
        var reference = SafetensorsReader.Read(Path.Combine(directory, "preprocess.reference.safetensors"));
        Pixels = reference["pixels"].Data;
        Features = reference["features"].Data;
    }

    public static PreprocessFixtures B0 => Generated.Value;

    public string Directory { get; }

    /// <summary>Image file names, in the order of the reference rows.</summary>
    public IReadOnlyList<string> Names { get; }

    public IEnumerable<string> ImagePaths => Names.Select(n => Path.Combine(Directory, "images", n));

    public string Checkpoint => Path.Combine(Directory, "b0.pth");

    /// <summary>torchvision's crops, [N, 3, 224, 224], 0…255.</summary>
    public float[] Pixels { get; }

    /// <summary>The calibrated B0's features of <see cref="Pixels"/>, [N, 1280].</summary>
    public float[] Features { get; }

    public float[] FeaturesOf(int row) => Features.AsSpan(row * 1280, 1280).ToArray();

    private static PreprocessFixtures Generate()
    {
        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(TorchvisionFixtures.Script)))[..16];
        var dir = Path.Combine(Path.GetTempPath(), "effnet-fixtures", hash + "-preprocess");
        if (!File.Exists(Path.Combine(dir, "DONE")))
        {
            var staging = dir + ".partial-" + Environment.ProcessId;
            TorchvisionFixtures.RunScript("preprocess", staging, "b0");
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
            System.IO.Directory.Move(staging, dir);
        }
        return new PreprocessFixtures(dir);
    }
}
