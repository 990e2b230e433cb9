using System.Diagnostics;
using EffNet.MLNet.Cli.Shards;
using Microsoft.Data.Sqlite;
using SkiaSharp;

namespace EffNet.MLNet.Tests;

/// <summary>What the sharding tests share: datasets made at test time, effnet started and watched, rows compared bit for bit.</summary>
internal static class ShardFixtures
{
    /// <summary>A row of <c>effnet featurize --out X.idv</c> with the tiny network's 320 features.</summary>
    public sealed class IdvRow
    {
        public string ImagePath { get; set; } = "";
        public string Label { get; set; } = "";
        [Microsoft.ML.Data.VectorType(320)] public float[] Features { get; set; } = [];
    }

    /// <summary>A tiny network (w 0.25, d 0.25, 64 px): the tests are about splitting and merging, not the backbone.</summary>
    public const string TinyVariant = "w=0.25,d=0.25,r=64";

    /// <summary>The sample images copied under <paramref name="folder"/> (so a test may delete them afterwards).</summary>
    public static string CopySampleData(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(SampleData.Folder, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(SampleData.Folder, file);
            if (!Training.ImageDataset.ImageExtensions.Contains(Path.GetExtension(file).ToLowerInvariant())) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(folder, relative))!);
            File.Copy(file, Path.Combine(folder, relative));
        }
        return folder;
    }

    /// <summary><paramref name="count"/> distinct noise PNGs (seeded) in two label folders.</summary>
    public static string NoiseImages(string folder, int count, int size = 96)
    {
        var random = new Random(7);
        for (var i = 0; i < count; i++)
        {
            var label = i % 2 == 0 ? "even" : "odd";
            Directory.CreateDirectory(Path.Combine(folder, label));
            using var bitmap = new SKBitmap(size, size);
            var pixels = new byte[size * size * 4];
            random.NextBytes(pixels);
            for (var p = 3; p < pixels.Length; p += 4) pixels[p] = 255;
            System.Runtime.InteropServices.Marshal.Copy(pixels, 0, bitmap.GetPixels(), pixels.Length);
            using var image = SKImage.FromBitmap(bitmap);
            using var data = image.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(folder, label, $"img-{i:D4}.png"), data.ToArray());
        }
        return folder;
    }

    /// <summary>Start effnet in <paramref name="home"/> without waiting (for a test that kills it).</summary>
    public static Process Start(string home, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "effnet.dll");
        var environment = new Dictionary<string, string> { ["EFFNET_HOME"] = home, ["COLUMNS"] = "200" };
        ProcessRunner.CheckEffnetHome("dotnet", [dll, .. args], environment);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = Process.Start(psi)!;
        process.StandardOutput.ReadToEndAsync();
        process.StandardError.ReadToEndAsync();
        return process;
    }

    /// <summary>Vectors the feature cache under <paramref name="home"/> has committed (0 before it exists).</summary>
    public static long CachedVectors(string home)
    {
        var store = Path.Combine(home, "features", Training.FeatureCache.FileName);
        if (!File.Exists(store)) return 0;
        try
        {
            using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = store, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM features";
            return (long)command.ExecuteScalar()!;
        }
        catch (SqliteException)
        {
            return 0; // not created yet, or busy: ask again
        }
    }

    /// <summary>Rows equal field by field, vectors bit for bit (so -0 ≠ +0 and NaN payloads count).</summary>
    public static void AssertSameRows(IReadOnlyList<FeatureRow> expected, IReadOnlyList<FeatureRow> actual)
    {
        Assert.Equal(expected.Select(r => r.Path), actual.Select(r => r.Path));
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Label, actual[i].Label);
            Assert.Equal(expected[i].ContentSha256, actual[i].ContentSha256);
            Assert.Equal(expected[i].Vector.Select(BitConverter.SingleToInt32Bits), actual[i].Vector.Select(BitConverter.SingleToInt32Bits));
        }
    }
}
