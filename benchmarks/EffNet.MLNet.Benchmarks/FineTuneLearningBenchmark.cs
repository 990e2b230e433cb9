using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.FineTuning;
using EffNet.MLNet.FineTuning.Data;
using EffNet.MLNet.FineTuning.Graph;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Training;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// finetune-learning: on the direction task (classes differ only in their arrows' direction), from the same seeded
/// random start (the random-init featurizer's weights, written as a torchvision state_dict), the C# fine-tuner and
/// PyTorch train B0 with the same recipe on the same pixels (with augmentation, the C# side's augmented batches in
/// its order), three seeds each; the held-out accuracy of each, and of a linear probe on the start weights' features.
/// </summary>
internal static class FineTuneLearningBenchmark
{
    private sealed record Settings(int Resolution, int TrainPerClass, int HeldOutPerClass, int Epochs, double LearningRate, string Unfreeze,
        int Batch, int Threads, int[] Seeds, int DataSeed, bool TrainBatchNorm, double DropPath, bool Torch, Augmentation Augment);

    public static int Run(string[] args)
    {
        var s = Parse(args);
        var inv = CultureInfo.InvariantCulture;
        var work = Path.Combine(Path.GetTempPath(), $"effnet-finetune-learning-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        try
        {
            Console.WriteLine(string.Create(inv, $"direction task: {4 * s.TrainPerClass} training and {4 * s.HeldOutPerClass} held-out images at {s.Resolution} px (data seed {s.DataSeed}); " +
                $"B0 from the random-init featurizer's weights, unfreeze {s.Unfreeze}, {s.Epochs} epochs, batch {s.Batch}, AdamW lr {s.LearningRate:g3} wd 0.05, warm-up 1 epoch + cosine, " +
                $"label smoothing 0.1, batch-norm {(s.TrainBatchNorm ? "training" : "frozen")}, drop-path {s.DropPath}, augmentation {s.Augment}, {s.Threads} threads; {Environment.ProcessorCount} cores, load {Load()}"));
            // Drawn at the serving side (73 px for 64), so the centre crop that training and serving take is the middle of the drawing, not an upscale.
            var (trainDir, heldOutDir) = DirectionTask.WriteSplits(Path.Combine(work, "data"), s.TrainPerClass, s.HeldOutPerClass,
                DecodedImageBatches.ServingSide(EfficientNetVariant.B0, s.Resolution), s.DataSeed);
            var train = ImageDataset.Load(trainDir);
            var labels = train.Select(i => i.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            var heldOut = ImageDataset.Load(heldOutDir);
            var (trainPixels, trainLabels) = Decode(train, labels, s.Resolution);
            var (heldPixels, heldLabels) = Decode(heldOut, labels, s.Resolution);
            var data = Path.Combine(work, "pixels.safetensors");
            StateDictWriter.Write(data,
            [
                ("train_pixels", [train.Count, 3, s.Resolution, s.Resolution], trainPixels), ("train_labels", [train.Count], trainLabels.Select(l => (float)l).ToArray()),
                ("heldout_pixels", [heldOut.Count, 3, s.Resolution, s.Resolution], heldPixels), ("heldout_labels", [heldOut.Count], heldLabels.Select(l => (float)l).ToArray()),
            ]);
            // PyTorch reads labels as float tensors and casts them; class indices are small integers, exact in float32.

            var rows = new List<(int Seed, double Probe, double CSharp, double CSharpRate, double Torch, double TorchRate)>();
            foreach (var seed in s.Seeds)
            {
                var start = Path.Combine(work, $"start-{seed}.safetensors");
                WriteStart(start, labels.Count, seed);
                var probe = Probe(start, s.Resolution, trainPixels, trainLabels, heldPixels, heldLabels, seed);

                var options = new FineTuneOptions
                {
                    Unfreeze = Unfreeze.TryParse(s.Unfreeze) ?? throw new ArgumentException($"--unfreeze {s.Unfreeze}"),
                    Epochs = s.Epochs, Resolution = s.Resolution, BatchSize = s.Batch, LearningRate = s.LearningRate, Seed = seed, Threads = s.Threads,
                    TrainBatchNorm = s.TrainBatchNorm, DropPathRate = s.DropPath, Augmentation = s.Augment,
                    DropoutRate = 0,   // the PyTorch side turns its classifier dropout off too
                };
                var tuned = Path.Combine(work, $"tuned-{seed}.safetensors");
                var watch = Stopwatch.StartNew();
                var history = FineTuner.Run(train, EfficientNetVariant.B0, start, options, tuned);
                var csRate = s.Epochs * train.Count / watch.Elapsed.TotalSeconds;
                var cs = HeldOutAccuracy(tuned, labels.Count, s.Resolution, heldPixels, heldLabels, s.Threads);

                var csTrainEval = HeldOutAccuracy(tuned, labels.Count, s.Resolution, trainPixels, trainLabels, s.Threads);
                Console.WriteLine(string.Create(inv,
                    $"seed {seed}: probe {probe:P1}; C# {cs:P1}, eval-mode on training images {csTrainEval:P1} (first epoch loss {history[0].Loss:0.000}, last {history[^1].Loss:0.000}, train acc {history[^1].Accuracy:P0}, {csRate:0.0} img/s)"));
                double t = double.NaN, tRate = double.NaN;
                if (s.Torch)
                {
                        // With augmentation PyTorch trains on the C# side's augmented batches, epoch by epoch in the C# order.
                    var augmented = s.Augment == Augmentation.None ? "-" : WriteAugmentedEpochs(Path.Combine(work, $"augmented-{seed}"), train, labels, options);
                    var torch = RunTorch(["learn", start, data, seed.ToString(inv), s.Epochs.ToString(inv), s.LearningRate.ToString("R", inv), s.Unfreeze,
                        s.Batch.ToString(inv), s.Threads.ToString(inv), s.TrainBatchNorm ? "1" : "0", s.DropPath.ToString("R", inv), augmented]);
                    if (augmented != "-") Directory.Delete(augmented, recursive: true);
                    t = torch.GetProperty("heldout").GetDouble();
                    tRate = torch.GetProperty("imagesPerSecond").GetDouble();
                    var torchHistory = torch.GetProperty("history").EnumerateArray().ToList();
                    Console.WriteLine(string.Create(inv,
                        $"seed {seed}: PyTorch {t:P1} (first epoch loss {torchHistory[0].GetProperty("loss").GetDouble():0.000}, last {torchHistory[^1].GetProperty("loss").GetDouble():0.000}, " +
                        $"train acc {torchHistory[^1].GetProperty("accuracy").GetDouble():P0}, {tRate:0.0} img/s)"));
                }
                rows.Add((seed, probe, cs, csRate, t, tRate));
            }

            static string MeanSd(IEnumerable<double> values)
            {
                var v = values.ToList();
                var mean = v.Average();
                var sd = v.Count > 1 ? Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1)) : 0;
                return string.Create(CultureInfo.InvariantCulture, $"{100 * mean:0.0} ± {100 * sd:0.0} %");
            }
            Console.WriteLine();
            Console.WriteLine("| held-out accuracy (mean ± sd over seeds " + string.Join(", ", s.Seeds) + ") | |");
            Console.WriteLine("|---|---|");
            Console.WriteLine($"| linear probe on the start weights (L-BFGS on frozen features) | {MeanSd(rows.Select(r => r.Probe))} |");
            Console.WriteLine($"| C# fine-tuned (EffNet.MLNet.FineTuning) | {MeanSd(rows.Select(r => r.CSharp))} |");
            Console.WriteLine($"| PyTorch {TorchVersion()} fine-tuned, same start and recipe | {MeanSd(rows.Select(r => r.Torch))} |");
            var gap = 100 * (rows.Average(r => r.CSharp) - rows.Average(r => r.Torch));
            var lift = 100 * (rows.Average(r => r.CSharp) - rows.Average(r => r.Probe));
            Console.WriteLine(string.Create(inv, $"C# − PyTorch: {gap:+0.0;-0.0} points (target: within 5); C# − probe: {lift:+0.0;-0.0} points (target: ≥ 15); " +
                $"training images/s C# {rows.Average(r => r.CSharpRate):0.0}, PyTorch {rows.Average(r => r.TorchRate):0.0}; load now {Load()}"));
            return 0;
        }
        finally
        {
            // EFFNET_KEEP=1 keeps the images, pixels and start weights for a look afterwards.
            if (Environment.GetEnvironmentVariable("EFFNET_KEEP") is null) Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>The seeded random B0 of the library's random-init featurizer (the probe's weights), with a 4-class classifier, as torchvision names it.</summary>
    private static void WriteStart(string path, int classes, int seed)
    {
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var p = NetworkParameters.FromFolded(architecture, RandomWeights.Create(architecture, seed), classes, seed);
        StateDictWriter.WriteTorchvision(path, p);
    }

    /// <summary>
    /// Every epoch's augmented batches exactly as <see cref="FineTuner.Run"/> draws them (the same split, batch
    /// source, seed and order), one safetensors file per epoch: <c>pixels</c> [N,3,R,R] and <c>labels</c> [N].
    /// </summary>
    private static string WriteAugmentedEpochs(string folder, IReadOnlyList<Training.LabeledImage> train, List<string> labels, FineTuneOptions options)
    {
        Directory.CreateDirectory(folder);
        var (trainIndices, _) = StratifiedSplit.Split(train.Select(i => i.Label).ToList(), options.ValidationFraction, options.Seed);
        var training = trainIndices.Select(i => (train[i].ImagePath, labels.IndexOf(train[i].Label))).ToList();
        var batches = new AugmentedBatches(training, options.Resolution, options.BatchSize, options.Augmentation, options.Seed);
        var per = 3 * options.Resolution * options.Resolution;
        var pixels = new float[training.Count * per];
        var classes = new float[training.Count];
        var batchPixels = new float[options.BatchSize * per];
        var batchLabels = new long[options.BatchSize];
        for (var epoch = 0; epoch < options.Epochs; epoch++)
        {
            var at = 0;
            for (var b = 0; b < batches.Count; b++)
            {
                var n = batches.Size(b);
                batches.Fill(epoch, b, batchPixels, batchLabels);
                batchPixels.AsSpan(0, n * per).CopyTo(pixels.AsSpan(at * per));
                for (var i = 0; i < n; i++) classes[at + i] = batchLabels[i];
                at += n;
            }
            StateDictWriter.Write(Path.Combine(folder, $"epoch-{epoch}.safetensors"),
                [("pixels", [training.Count, 3, options.Resolution, options.Resolution], pixels), ("labels", [training.Count], classes)]);
        }
        return folder;
    }

    /// <summary>The pixels the C# fine-tuner trains on (its own batch source, no shuffle): PyTorch gets exactly these.</summary>
    private static (float[] Pixels, int[] Labels) Decode(IReadOnlyList<Training.LabeledImage> images, List<string> labels, int resolution)
    {
        var list = images.Select(i => (i.ImagePath, labels.IndexOf(i.Label))).ToList();
        var batches = new DecodedImageBatches(list, resolution, list.Count, 0, shuffle: false, DecodedImageBatches.ServingSide(EfficientNetVariant.B0, resolution));
        var pixels = new float[list.Count * 3 * resolution * resolution];
        var indices = new long[list.Count];
        batches.Fill(0, 0, pixels, indices);
        return (pixels, indices.Select(l => (int)l).ToArray());
    }

    /// <summary>The fine-tuned network's own classifier on held-out images (the training graph's forward pass, no gradients).</summary>
    private static double HeldOutAccuracy(string weights, int classes, int resolution, float[] pixels, int[] labels, int threads)
    {
        var p = NetworkParameters.FromTorchvisionCheckpoint(EfficientNetArchitecture.For(EfficientNetVariant.B0), weights, classes, 0);
        var graph = TrainingGraphBuilder.Build(p, Unfreeze.Head, resolution, 0.1, gradients: false);
        using var session = new TrainingSession(graph, p, threads);
        const int Batch = 32;
        var per = 3 * resolution * resolution;
        var correct = 0;
        for (var start = 0; start < labels.Length; start += Batch)
        {
            var n = Math.Min(Batch, labels.Length - start);
            var batch = pixels.AsSpan(start * per, n * per).ToArray();
            var logits = new float[n * classes];
            session.Run(batch, labels.Skip(start).Take(n).Select(l => (long)l).ToArray(), n, logits);
            for (var i = 0; i < n; i++)
            {
                var row = logits.AsSpan(i * classes, classes);
                var best = 0;
                for (var k = 1; k < classes; k++) if (row[k] > row[best]) best = k;
                if (best == labels[start + i]) correct++;
            }
        }
        return (double)correct / labels.Length;
    }

    private sealed class ProbeRow
    {
        [VectorType] public float[] Features { get; set; } = [];
        public uint Label { get; set; }
    }

    /// <summary>A linear probe: L-BFGS maximum entropy on the start weights' (frozen) features.</summary>
    private static double Probe(string start, int resolution, float[] trainPixels, int[] trainLabels, float[] heldPixels, int[] heldLabels, int seed)
    {
        // The feature graph at exactly the training square (the serving graph takes a larger one and crops inside).
        var architecture = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        var weights = NetworkParameters.FromTorchvisionCheckpoint(architecture, start, 4, seed).ToNetworkWeights(start);
        var graph = EfficientNetOnnxExporter.Build(architecture, weights, new FeatureExtractorOptions { Resolution = resolution });
        using var session = new FeatureSession(Google.Protobuf.MessageExtensions.ToByteArray(graph), 2);
        List<ProbeRow> Rows(float[] pixels, int[] labels)
        {
            var features = session.Run(pixels, labels.Length);
            var d = features.Length / labels.Length;
            return labels.Select((l, i) => new ProbeRow { Features = features.AsSpan(i * d, d).ToArray(), Label = (uint)l + 1 }).ToList();
        }
        var ml = new MLContext(seed);
        var trainRows = Rows(trainPixels, trainLabels);
        var schema = SchemaDefinition.Create(typeof(ProbeRow));
        schema[nameof(ProbeRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, trainRows[0].Features.Length);
        schema[nameof(ProbeRow.Label)].ColumnType = new KeyDataViewType(typeof(uint), 4);
        var trainView = ml.Data.LoadFromEnumerable(trainRows, schema);
        var model = ml.Transforms.NormalizeMeanVariance(nameof(ProbeRow.Features))
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy(nameof(ProbeRow.Label), nameof(ProbeRow.Features))).Fit(trainView);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(ml.Data.LoadFromEnumerable(Rows(heldPixels, heldLabels), schema)), nameof(ProbeRow.Label));
        return metrics.MicroAccuracy;
    }

    internal static JsonElement RunTorch(string[] args)
    {
        var script = Path.Combine(RepoRoot.Find(), "benchmarks", "finetune", "torch_finetune.py");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{script} failed ({process.ExitCode}): {stderr.Result}");
        return JsonDocument.Parse(stdout.Trim().Split('\n')[^1]).RootElement.Clone();
    }

    private static string? _torchVersion;

    internal static string TorchVersion()
    {
        if (_torchVersion is not null) return _torchVersion;
        var psi = new ProcessStartInfo("/usr/bin/python3", ["-c", "import torch; print(torch.__version__)"]) { RedirectStandardOutput = true };
        using var process = Process.Start(psi)!;
        _torchVersion = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return _torchVersion;
    }

    internal static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static Settings Parse(string[] args)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected --option value, not '{args[i]}'");
            map[args[i][2..]] = args[i + 1];
        }
        int Int(string k, int d) => map.TryGetValue(k, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : d;
        return new Settings(Int("resolution", 64), Int("train-per-class", 100), Int("heldout-per-class", 50), Int("epochs", 30),
            map.TryGetValue("lr", out var lr) ? double.Parse(lr, CultureInfo.InvariantCulture) : 2e-3, map.GetValueOrDefault("unfreeze", "all"),
            Int("batch", 16), Int("threads", 2),
            map.TryGetValue("seeds", out var seeds) ? seeds.Split(',').Select(x => int.Parse(x, CultureInfo.InvariantCulture)).ToArray() : [1, 2, 3],
            Int("data-seed", 23), Int("train-batchnorm", 1) == 1,
            map.TryGetValue("drop-path", out var dropPath) ? double.Parse(dropPath, CultureInfo.InvariantCulture) : 0,
            Int("torch", 1) == 1,
            Enum.Parse<Augmentation>(map.GetValueOrDefault("augment", "light"), ignoreCase: true));
    }
}
