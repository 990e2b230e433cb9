using System.Security.Cryptography;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Real photos (scikit-image's data folder, Debian's python3-skimage) and a B0 whose batch-norm
/// statistics come from crops of some of them (tests/fixtures/make_photo_calibrated_b0.py), made once per
/// script version into the temp directory.
/// </summary>
internal static class PhotoFixtures
{
    // Three disjoint sets, so that no int8 figure is measured on a photo the network or its calibration has seen.
    /// <summary>The photos the B0's batch-norm statistics come from (the fixture script's PHOTOS).</summary>
    public static readonly string[] StatisticsPhotos = ["astronaut.png", "coffee.png", "ihc.png", "camera.png", "brick.png", "gravel.png"];

    /// <summary>The photos int8 activation ranges are calibrated on.</summary>
    public static readonly string[] CalibrationPhotos = ["chelsea.png", "hubble_deep_field.jpg", "rocket.jpg", "grass.png", "coins.png"];

    /// <summary>The photos int8 is scored on: held out from both.</summary>
    public static readonly string[] ScoringPhotos =
        ["motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "moon.png", "cell.png", "clock_motion.png", "page.png"];

    /// <summary>Camera photographs from Debian's lomiri-wallpapers package that calibrate int8 beside <see cref="CalibrationPhotos"/>.</summary>
    public static readonly string[] CalibrationWallpapers =
        ["Wine_by_Jakkub_Mede.jpg", "friends_by_Aitzol_Berasategi.jpg", "free_by_Peter_Nerlich.jpg", "umang_by_Abhishek_Mudgal.jpg",
         "Bridge_by_Sander_Klootwijk.jpg", "sunset_by_Aitzol_Berasategi.jpg", "seeding_by_Clements_Engelhardt.jpg"];

    /// <summary>Wallpaper photographs int8 is scored on beside <see cref="ScoringPhotos"/>: in no calibration sample.</summary>
    public static readonly string[] ScoringWallpapers =
        ["Picture_0B_by_freespace.jpg", "greentock_by_Peter_Nerlich.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg", "Picture_1A_by_freespace.jpg",
         "Dragonfly_by_Bolly.jpg", "life_by_Aitzol_Berasategi.jpg", "picosdeeuropa_by_Aitzol_Berasategi.jpg"];

    private const string WallpaperFolder = "/usr/share/backgrounds";

    /// <summary>Calibration photos and wallpapers (12).</summary>
    public static IReadOnlyList<string> CalibrationWithWallpapers => [.. Calibration, .. Wallpapers(CalibrationWallpapers)];

    /// <summary>Scoring photos and wallpapers (14), none in <see cref="CalibrationWithWallpapers"/> or the network's statistics.</summary>
    public static IReadOnlyList<string> ScoringWithWallpapers => [.. Scoring, .. Wallpapers(ScoringWallpapers)];

    private static List<string> Wallpapers(string[] names)
    {
        var paths = names.Select(n => Path.Combine(WallpaperFolder, n)).ToList();
        if (paths.FirstOrDefault(p => !File.Exists(p)) is { } missing)
            throw new InvalidOperationException($"{missing} is missing: install Debian's lomiri-wallpapers (apt-get install -y lomiri-wallpapers).");
        return paths;
    }

    private static readonly Lazy<string> Folder = new(() =>
        TorchvisionFixtures.RunPython("-c", "import os, skimage; print(os.path.join(os.path.dirname(skimage.__file__), 'data'))").Trim());

    private static readonly Lazy<string> Weights = new(MakeWeights, LazyThreadSafetyMode.ExecutionAndPublication);

    public static IReadOnlyList<string> Calibration => In(CalibrationPhotos);

    public static IReadOnlyList<string> Scoring => In(ScoringPhotos);

    private static List<string> In(string[] names) => names.Select(n => Path.Combine(Folder.Value, n)).ToList();

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
