using System.Security.Cryptography;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests.FineTuning;

/// <summary>
/// References made by tests/fixtures/make_finetune_training_fixtures.py: batch-norm in training mode,
/// drop-path with fixed masks and a class-weighted loss, on the network and images of
/// <see cref="FineTuneFixtures"/>. Generated once per script version into the temp directory.
/// </summary>
internal static class FineTuneTrainingFixtures
{
    /// <summary>The script's CLASS_WEIGHTS and DROP_PATH_RATE.</summary>
    public static readonly float[] ClassWeights = [0.5f, 2f, 1f, 3f];
    public const double DropPathRate = 0.5;

    /// <summary>A gradient PyTorch's float64 puts below this norm is exactly zero (the script's ZERO_GRADIENT).</summary>
    public const double ZeroGradient = 1e-10;

    private static readonly Lazy<string> Generated = new(Generate, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<IReadOnlyDictionary<string, CheckpointTensor>> ReferenceTensors =
        new(() => SafetensorsReader.Read(Path.Combine(Generated.Value, "finetune.training.reference.safetensors")), LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Script => Path.Combine(RepoPaths.Root, "tests", "fixtures", "make_finetune_training_fixtures.py");

    public static IReadOnlyDictionary<string, CheckpointTensor> Reference => ReferenceTensors.Value;

    public static NetworkParameters Parameters() =>
        NetworkParameters.FromTorchvisionCheckpoint(FineTuneFixtures.Architecture, Path.Combine(Generated.Value, "b0-4class.safetensors"), FineTuneFixtures.Classes, seed: 0);

    /// <summary>
    /// Tensors whose gradient differs from the reference: norm-relative beyond <paramref name="tolerance"/>, or,
    /// where the reference is exactly zero, a norm above <paramref name="zeroTolerance"/>.
    /// </summary>
    public static List<string> Differences(IEnumerable<string> names, Func<string, float[]> actual, string prefix, double tolerance, double zeroTolerance)
    {
        var failures = new List<string>();
        foreach (var name in names)
        {
            var expected = Reference[prefix + name].Data;
            var a = actual(name);
            var norm = Math.Sqrt(expected.Sum(x => (double)x * x));
            if (norm <= ZeroGradient)
            {
                var actualNorm = Math.Sqrt(a.Sum(x => (double)x * x));
                if (!(actualNorm <= zeroTolerance)) failures.Add($"{name}: norm {actualNorm:e2} where PyTorch's is 0");
                continue;
            }
            var error = FineTuneTestNetworks.NormRelative(a, expected);
            if (!(error <= tolerance)) failures.Add($"{name}: {error:e2}");
        }
        return failures;
    }

    private static string Generate()
    {
        var hash = Convert.ToHexString(SHA256.HashData([.. File.ReadAllBytes(Script), .. File.ReadAllBytes(FineTuneFixtures.Script)]))[..16];
        var dir = Path.Combine(Path.GetTempPath(), "effnet-finetune-training-fixtures", hash);
        if (File.Exists(Path.Combine(dir, "DONE"))) return dir;
        var staging = dir + ".partial-" + Environment.ProcessId;
        TorchvisionFixtures.RunPython(Script, staging);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.Move(staging, dir);
        return dir;
    }
}
