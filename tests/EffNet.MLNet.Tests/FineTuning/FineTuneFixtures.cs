using System.Security.Cryptography;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>
/// References made by tests/fixtures/make_finetune_fixtures.py (torchvision's B0, data-calibrated,
/// 4 classes, 64 px): generated once per script version into the temp directory, then reused.
/// The hyper-parameters below are the script's.
/// </summary>
internal static class FineTuneFixtures
{
    public const int Classes = 4;
    public const int Resolution = 64;
    public const int Batch = 4;
    public const int Steps = 3;
    public const double LabelSmoothing = 0.1;

    private static readonly Lazy<string> Generated = new(Generate, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<IReadOnlyDictionary<string, CheckpointTensor>> ReferenceTensors =
        new(() => SafetensorsReader.Read(Path.Combine(Generated.Value, "finetune.reference.safetensors")), LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Script => Path.Combine(RepoPaths.Root, "tests", "fixtures", "make_finetune_fixtures.py");

    public static IReadOnlyDictionary<string, CheckpointTensor> Reference => ReferenceTensors.Value;

    public static EfficientNetArchitecture Architecture => EfficientNetArchitecture.For(EfficientNetVariant.B0);

    /// <summary>The starting weights, read by the fine-tuning reader.</summary>
    public static NetworkParameters Parameters() =>
        NetworkParameters.FromTorchvisionCheckpoint(Architecture, Path.Combine(Generated.Value, "b0-4class.safetensors"), Classes, seed: 0);

    /// <summary>Images [start, start + Batch) as NCHW 0…255 and their labels.</summary>
    public static (float[] Pixels, long[] Labels) Images(int start)
    {
        var per = 3 * Resolution * Resolution;
        var pixels = Reference["pixels"].Data.AsSpan(start * per, Batch * per).ToArray();
        var labels = Reference["labels"].Data.AsSpan(start, Batch).ToArray().Select(l => (long)l).ToArray();
        return (pixels, labels);
    }

    private static string Generate()
    {
        var hash = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Script)))[..16];
        var dir = Path.Combine(Path.GetTempPath(), "effnet-finetune-fixtures", hash);
        if (File.Exists(Path.Combine(dir, "DONE"))) return dir;
        var staging = dir + ".partial-" + Environment.ProcessId;
        TorchvisionFixtures.RunPython(Script, staging);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.Move(staging, dir);
        return dir;
    }
}
