using System.Security.Cryptography;

namespace EffNet.MLNet.Tests;

/// <summary>
/// EfficientNetV2 and EfficientNet-Lite references made by tests/fixtures/make_family_fixtures.py (which
/// shares the B-family script's helpers): generated once per version of both scripts into the temp
/// directory, as <see cref="TorchvisionFixtures"/> does. Each reference also holds the features of the
/// same weights under the mistakes it must catch (<c>mutated.relu6</c>, <c>mutated.no-se</c>, …).
/// </summary>
internal static class FamilyFixtures
{
    /// <summary>torchvision's V2-S; a Lite0 written from timm's definition; V2-S with timm's names and tf_ padding.</summary>
    public static readonly string[] Default = ["v2-s", "lite0", "tf-v2-s"];

    private static readonly Lazy<string> Generated = new(() => Generate(Default), LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<string> GeneratedV2M = new(() => Generate(["v2-m"]), LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Script => Path.Combine(RepoPaths.Root, "tests", "fixtures", "make_family_fixtures.py");

    public static string File(string name) => Path.Combine(name.StartsWith("v2-m", StringComparison.Ordinal) ? GeneratedV2M.Value : Generated.Value, name);

    /// <summary>'pixels', 'features' and every 'mutated.*' tensor of a reference.</summary>
    public static IReadOnlyDictionary<string, float[]> Reference(string name) =>
        Weights.SafetensorsReader.Read(File(name + ".reference.safetensors")).ToDictionary(kv => kv.Key, kv => kv.Value.Data);

    private static string Generate(string[] references)
    {
        var scripts = System.IO.File.ReadAllBytes(Script).Concat(System.IO.File.ReadAllBytes(TorchvisionFixtures.Script)).ToArray();
        var hash = Convert.ToHexString(SHA256.HashData(scripts))[..16];
        var dir = Path.Combine(Path.GetTempPath(), "effnet-family-fixtures", hash + "-" + string.Join("_", references));
        var done = Path.Combine(dir, "DONE");
        if (System.IO.File.Exists(done) && System.IO.File.ReadAllText(done) == string.Join(" ", references)) return dir;
        var staging = dir + ".partial-" + Environment.ProcessId;
        TorchvisionFixtures.RunPython([Script, "parity", staging, .. references]);
        if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
        System.IO.Directory.Move(staging, dir);
        return dir;
    }
}
