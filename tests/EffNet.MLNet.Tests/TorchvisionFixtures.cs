using System.Security.Cryptography;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Reference files made by tests/fixtures/make_torchvision_fixtures.py with Debian's
/// python3-torchvision: too large to commit, so generated once per script version into the
/// temp directory and reused by later runs. The networks are data-calibrated, so their
/// features depend on the image (see the script's docstring).
/// </summary>
internal static class TorchvisionFixtures
{
    public const string Python = "/usr/bin/python3";
    /// <summary>torchvision's b0, b3, b5; timm's efficientnet_b0 and _b5 (same parameters and images as b0, b5); timm's tf_efficientnet_b0.</summary>
    public static readonly string[] ParityVariants = ["b0", "b3", "b5", "timm-b0", "timm-b5", "tf-b0"];

    private static readonly Lazy<string> Generated = new(Generate, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Script => Path.Combine(RepoPaths.Root, "tests", "fixtures", "make_torchvision_fixtures.py");

    /// <summary>The directory holding <c>b0.pth</c>, <c>b0.reference.safetensors</c>, …</summary>
    public static string Directory => Generated.Value;

    public static string File(string name) => Path.Combine(Directory, name);

    public static string RunScript(params string[] args) => RunPython([Script, .. args]);

    /// <summary>Run /usr/bin/python3 with <paramref name="args"/>; its stdout.</summary>
    public static string RunPython(params string[] args)
    {
        if (!System.IO.File.Exists(Python))
            throw new InvalidOperationException($"{Python} is missing: install Debian's python3-torchvision (apt-get install -y python3-torchvision), as .ci/run does.");
        var (code, stdout, stderr) = ProcessRunner.Run(Python, args);
        if (code != 0)
            throw new InvalidOperationException($"The fixture script failed ({code}); is python3-torchvision installed?\n{stderr}");
        return stdout;
    }

    private static string Generate()
    {
        var hash = Convert.ToHexString(SHA256.HashData(System.IO.File.ReadAllBytes(Script)))[..16];
        var dir = Path.Combine(Path.GetTempPath(), "effnet-fixtures", hash);
        var done = Path.Combine(dir, "DONE");
        if (System.IO.File.Exists(done) && System.IO.File.ReadAllText(done) == string.Join(" ", ParityVariants)) return dir;
        var staging = dir + ".partial-" + Environment.ProcessId;
        RunScript(["parity", staging, .. ParityVariants]);
        if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
        System.IO.Directory.Move(staging, dir);
        return dir;
    }
}
