using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Onnx.Quantization;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// B0 in float32 against the int8 backbone, pure ONNX Runtime, side by side in one run under the
/// same execution (two concurrent single-image runs of one intra-op thread each), on a network
/// whose batch-norm statistics come from photos (tests/fixtures/make_photo_calibrated_b0.py) and on
/// real photos (scikit-image's data folder). Prints images/s, speedup, features' cosine, a
/// sample-data accuracy, file size, and ONNX Runtime's per-op profile of each graph.
/// </summary>
internal static class Int8Benchmark
{
    private const int Size = 256;
    private const string SkimageData = "/usr/lib/python3/dist-packages/skimage/data";
    private static readonly string[] PhotoNames =
        ["astronaut.png", "chelsea.png", "coffee.png", "hubble_deep_field.jpg", "ihc.png", "motorcycle_left.png", "motorcycle_right.png", "retina.jpg", "rocket.jpg"];

    public static int Run(BenchmarkArgs args)
    {
        var weights = PhotoCalibratedWeights();
        var photos = PhotoNames.Select(n => Path.Combine(SkimageData, n)).Where(File.Exists).ToList();
        if (photos.Count == 0) { Console.Error.WriteLine($"No photos under {SkimageData}; install python3-skimage."); return 1; }
        var sample = Directory.GetFiles(Path.Combine(RepoRoot.Find(), "sample-data"), "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".jpg", StringComparison.Ordinal) || f.EndsWith(".png", StringComparison.Ordinal)).Order().ToList();
        var photoPixels = photos.Select(Decode).ToList();
        var samplePixels = sample.Select(Decode).ToList();
        var sampleLabels = sample.Select(f => Path.GetFileName(Path.GetDirectoryName(f))!).ToList();

        var fp32 = EfficientNetBackbone.Resolve(new EfficientNetFeaturizerOptions { Variant = "b0", WeightsPath = weights }).Graph;
        // Photos' features calibrate on the photos, sample-data's on a sample of sample-data: each on "the user's images".
        var layouts = new (string Name, int FloatStages)[] { ($"int8 (stem + stages 1-{QuantizationLayout.FloatStages} float)", QuantizationLayout.FloatStages), ("int8, every activation", 0) };
        var graphs = new List<(string Name, byte[] ForPhotos, byte[] ForSample)> { ("fp32", fp32.ToByteArray(), fp32.ToByteArray()) };
        var sampleCalibration = CalibrationSample.Pick(sample).Select(p => samplePixels[sample.IndexOf(p)]).ToList();
        foreach (var (name, floatStages) in layouts)
            graphs.Add((name,
                Int8Quantizer.Quantize(fp32, photoPixels, CalibrationMethod.LeastSquares, null, floatStages).ToByteArray(),
                Int8Quantizer.Quantize(fp32, sampleCalibration, CalibrationMethod.LeastSquares, null, floatStages).ToByteArray()));

        var sessions = graphs.Select(g => Open(g.ForPhotos, profile: false)).ToList();
        var reference = photoPixels.Select(p => Features(sessions[0], p)).ToList();
        var cosines = sessions.Select(s => photoPixels.Select((p, i) => Cosine(Features(s, p), reference[i])).Order().ToList()).ToList();
        var accuracy = graphs.Select(g =>
        {
            using var session = Open(g.ForSample, profile: false);
            return NearestCentroidAccuracy(samplePixels.Select(p => Features(session, p)).ToList(), sampleLabels);
        }).ToList();
        var inputs = photoPixels.Concat(samplePixels.Take(Math.Max(0, 32 - photoPixels.Count))).ToList();
        var rounds = Math.Max(3, args.Rounds);
        var result = SideBySide.Measure(rounds, 2 * inputs.Count, 1, sessions.Select(s => (Action)(() => TwoConcurrentRuns(s, inputs))).ToArray());
        foreach (var s in sessions) s.Dispose();

        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine($"EfficientNet b0 (photo-calibrated batch-norm), pure ONNX Runtime, {rounds} interleaved rounds of {2 * inputs.Count} images,");
        Console.WriteLine("two concurrent batch-1 runs x 1 intra-op thread on one session each, ORT_ENABLE_ALL");
        Console.WriteLine($"CPU: {CpuSummary()}");
        Console.WriteLine($"{"graph",-36} {"images/s",9} {"x fp32",7} {"cos median",11} {"cos min",8} {"accuracy",9} {"MB",6}");
        for (var i = 0; i < graphs.Count; i++)
            Console.WriteLine(string.Create(inv,
                $"{graphs[i].Name,-36} {result.MedianRates[i],9:F1} {result.Ratio(i, 0),7:F2} {cosines[i][cosines[i].Count / 2],11:F4} {cosines[i][0],8:F4} {accuracy[i],9:P1} {graphs[i].ForPhotos.Length / 1048576.0,6:F1}"));
        Console.WriteLine($"cosine: features against fp32 on {photos.Count} scikit-image photos, calibrated on them;");
        Console.WriteLine($"accuracy: leave-one-out nearest class centroid on the {sample.Count} sample-data images, calibrated on {sampleCalibration.Count} of them.");
        Console.WriteLine();
        for (var i = 0; i < graphs.Count; i++) Profile(graphs[i].Name, graphs[i].ForPhotos, inputs);
        return 0;
    }

    private static double NearestCentroidAccuracy(List<float[]> features, List<string> labels)
    {
        var unit = features.Select(f => { var n = Math.Sqrt(f.Sum(v => (double)v * v)); return f.Select(v => v / n).ToArray(); }).ToList();
        var right = 0;
        for (var i = 0; i < unit.Count; i++)
        {
            var best = unit.Select((f, j) => (f, j)).Where(x => x.j != i).GroupBy(x => labels[x.j])
                .MaxBy(g =>
                {
                    var centroid = new double[unit[i].Length];
                    foreach (var (f, _) in g) for (var k = 0; k < f.Length; k++) centroid[k] += f[k];
                    return unit[i].Select((v, k) => v * centroid[k]).Sum() / Math.Sqrt(centroid.Sum(c => c * c));
                })!.Key;
            if (best == labels[i]) right++;
        }
        return right / (double)unit.Count;
    }

    private static float[] Decode(string path)
    {
        var pixels = new float[3 * Size * Size];
        FastImageDecoder.Decode(path, Size, pixels);
        return pixels;
    }

    internal static InferenceSession Open(byte[] model, bool profile)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, IntraOpNumThreads = 1, EnableProfiling = profile };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.AddSessionConfigEntry("session.set_denormal_as_zero", "1");
        if (profile) options.ProfileOutputPathPrefix = Path.Combine(Path.GetTempPath(), "effnet-int8-profile");
        return new InferenceSession(model, options);
    }

    internal static float[] Features(InferenceSession session, float[] pixels, int size = Size)
    {
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [1, 3, size, size]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, ["pixels"], [input], ["features"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    internal static void TwoConcurrentRuns(InferenceSession session, IReadOnlyList<float[]> inputs, int size = Size) =>
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, _ =>
        {
            foreach (var pixels in inputs) Features(session, pixels, size);
        });

    internal static double Cosine(float[] a, float[] b)
    {
        double dot = 0, na = 0, nb = 0;
        for (var i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
        return dot / Math.Sqrt(na * nb);
    }

    /// <summary>ONNX Runtime's profile of one single-threaded session: time per op type, per image.</summary>
    private static void Profile(string name, byte[] model, IReadOnlyList<float[]> inputs)
    {
        string file;
        using (var session = Open(model, profile: true))
        {
            foreach (var pixels in inputs) Features(session, pixels);
            file = session.EndProfiling();
        }
        var perOp = new Dictionary<string, (double Micros, int Count)>();
        using (var json = JsonDocument.Parse(File.ReadAllText(file)))
            foreach (var e in json.RootElement.EnumerateArray())
            {
                if (e.GetProperty("cat").GetString() != "Node" || !e.TryGetProperty("args", out var a) || !a.TryGetProperty("op_name", out var op)) continue;
                if (!e.GetProperty("name").GetString()!.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                var key = op.GetString()!;
                var (micros, count) = perOp.GetValueOrDefault(key);
                perOp[key] = (micros + e.GetProperty("dur").GetDouble(), count + 1);
            }
        File.Delete(file);
        var total = perOp.Values.Sum(v => v.Micros);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Profile of '{name}', one thread: {total / 1000 / inputs.Count:F2} ms an image in kernels"));
        foreach (var (op, (micros, count)) in perOp.OrderByDescending(p => p.Value.Micros))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {op,-28} {micros / 1000 / inputs.Count,7:F2} ms  {100 * micros / total,5:F1}%  {count / inputs.Count,4} nodes"));
    }

    private static string CpuSummary()
    {
        var flags = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : "";
        var model = flags.Split('\n').FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "unknown";
        var has = new[] { "avx512_vnni", "avx_vnni", "avx512f", "avx2" }.Where(f => flags.Contains(' ' + f + ' ', StringComparison.Ordinal) || flags.Contains(' ' + f + '\n', StringComparison.Ordinal));
        return $"{model}, {Environment.ProcessorCount} cores, {string.Join(" ", has)}";
    }

    /// <summary>tests/fixtures/make_photo_calibrated_b0.py's b0, made once per script version (as the int8 tests make it).</summary>
    private static string PhotoCalibratedWeights()
    {
        var scripts = new[] { "make_photo_calibrated_b0.py", "make_torchvision_fixtures.py" }.Select(s => Path.Combine(RepoRoot.Find(), "tests", "fixtures", s)).ToList();
        var hash = Convert.ToHexString(SHA256.HashData(scripts.SelectMany(File.ReadAllBytes).ToArray()))[..16];
        var weights = Path.Combine(Path.GetTempPath(), "effnet-fixtures", "photo-b0-" + hash + ".pth");
        if (File.Exists(weights)) return weights;
        Console.WriteLine("Making the photo-calibrated b0 with torchvision …");
        var python = Process.Start("/usr/bin/python3", [scripts[0], weights])!;
        python.WaitForExit();
        if (python.ExitCode != 0) throw new InvalidOperationException("The fixture script failed; install python3-torchvision and python3-skimage.");
        return weights;
    }
}
