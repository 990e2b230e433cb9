using System.Security.Cryptography;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Real photos (scikit-image's data folder, Debian's python3-skimage) and a B0 whose batch-norm
/// statistics come from crops of them (tests/fixtures/make_photo_calibrated_b0.py), made once per
/// script version into the temp directory.
/// </summary>
internal static class PhotoFixtures
{
    public static readonly string[] PhotoNames =
        ["astronaut.png", "chelsea.png", "coffee.png", "hubble_deep_field.jpg", "ihc.png", "motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "rocket.jpg"];

    private static readonly Lazy<string> Folder = new(() =>
        TorchvisionFixtures.RunPython("-c", "import os, skimage; print(os.path.join(os.path.dirname(skimage.__file__), 'data'))").Trim());

    private static readonly Lazy<string> Weights = new(MakeWeights, LazyThreadSafetyMode.ExecutionAndPublication);

    public static IReadOnlyList<string> Photos => PhotoNames.Select(n => Path.Combine(Folder.Value, n)).ToList();

    /// <summary>The photo-calibrated b0 checkpoint.</summary>
    public static string B0 => Weights.Value;

    private static string MakeWeights()
    {
        var scripts = new[] { "make_photo_calibrated_b0.py", "make_torchvision_fixtures.py" }.Select(s => Path.Combine(RepoPaths.Root, "tests", "fixtures", s)).ToList();
        var hash = Convert.ToHexString(SHA256.HashData(scripts.SelectMany(File.ReadAllBytes).ToArray()))[..16];
        var path = Path.Combine(Path.GetTempPath(), "effnet-fixtures", "photo-b0-" + hash + ".pth");
        if (!File.Exists(path)) TorchvisionFixtures.RunPython(scripts[0], path);
        return path;
    }
}
