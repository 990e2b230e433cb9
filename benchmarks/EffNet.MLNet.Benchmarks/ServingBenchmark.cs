using System.Diagnostics;
using System.Globalization;
using EffNet.MLNet.AspNetCore;
using EffNet.MLNet.Training;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.ML;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// Serving as a web app runs it: resident memory of one shared model against one model copy per
/// caller (what PooledPredictor did before), and a bounded load test — 8 HTTP clients × 500
/// requests on loopback against MapImageClassifier on Kestrel — with latency percentiles, errors
/// and resident memory as it goes.
/// </summary>
internal static class ServingBenchmark
{
    public static int Run(int clients = 8, int requestsPerClient = 500)
    {
        var inv = CultureInfo.InvariantCulture;
        var dir = Directory.CreateTempSubdirectory("effnet-serving-");
        try
        {
            var model = Path.Combine(dir.FullName, "model.zip");
            var images = TrainSampleModel(model);
            var uploads = images.Select(File.ReadAllBytes).ToList();
            Console.WriteLine(string.Create(inv, $"model: B0 (random weights) + SDCA on sample-data; {uploads.Count} distinct uploads, {uploads.Average(u => u.Length) / 1024:0} KiB on average; {Environment.ProcessorCount} cores"));

            SharedModelMemory(model, uploads);
            Load(model, uploads, clients, requestsPerClient).GetAwaiter().GetResult();
            CopyPerCallerMemory(model, uploads);   // last: memory freed by disposed sessions is not all returned to the OS
            return 0;
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }

    internal static List<string> TrainSampleModel(string path)
    {
        var ml = new MLContext(0);
        var data = ImageDataset.FromFolder(Path.Combine(RepoRoot.Find(), "sample-data"));
        var featurizer = ml.Transforms.ExtractEfficientNetFeatures(options: new EfficientNetFeaturizerOptions { RandomInit = true }).Fit(ImageClassifierTrainer.EmptyInput(ml));
        var table = ImageClassifierTrainer.Featurize(ml, featurizer, data);
        var result = ImageClassifierTrainer.Train(ml, featurizer, table, new TrainingOptions { Trainer = TrainerKind.Sdca });
        ml.Model.Save(result.Model, ImageClassifierTrainer.InputSchema(ml), path);
        return data.Select(i => i.ImagePath).ToList();
    }

    // Resident memory after 1 and 8 concurrent callers on one shared model.
    private static void SharedModelMemory(string model, List<byte[]> uploads)
    {
        var inv = CultureInfo.InvariantCulture;
        var baseline = Rss();
        using (var shared = new PooledPredictor(model, new PooledPredictorOptions { WatchForChanges = false }))
        {
            Callers(1, 200, i => shared.Predict(uploads[i % uploads.Count], "upload"));
            var one = Rss();
            Callers(8, 200, i => shared.Predict(uploads[i % uploads.Count], "upload"));
            var eight = Rss();
            Console.WriteLine(string.Create(inv, $"resident memory, one shared model: {baseline:0} MiB before, {one:0} MiB after 1 caller, {eight:0} MiB after 8 concurrent callers (+{eight - one:0} MiB)"));
        }
    }

    // The same with one model copy per caller, as PooledPredictor did before it shared one model.
    private static void CopyPerCallerMemory(string model, List<byte[]> uploads)
    {
        var inv = CultureInfo.InvariantCulture;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var before = Rss();
        var copies = Enumerable.Range(0, 8).Select(_ => new PooledPredictor(model, new PooledPredictorOptions { WatchForChanges = false })).ToList();
        Callers(8, 200, i => copies[i % 8].Predict(uploads[i % uploads.Count], "upload"));
        var perCopy = Rss();
        Console.WriteLine(string.Create(inv, $"resident memory, one model copy per caller (the old design): {before:0} MiB before, {perCopy:0} MiB with 8 copies (+{perCopy - before:0} MiB)"));
        copies.ForEach(c => c.Dispose());
    }

    private static void Callers(int count, int each, Action<int> predict) =>
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = count }, c =>
        {
            for (var i = 0; i < each; i++) predict(c * each + i);
        });

    private static async Task Load(string model, List<byte[]> uploads, int clients, int requestsPerClient)
    {
        var inv = CultureInfo.InvariantCulture;
        var builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
        builder.Logging.ClearProviders();
        builder.Services.AddImageClassifier(model);
        await using var app = builder.Build();
        app.MapImageClassifier("/classify");
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };

        // Warm up: the first request loads the model.
        for (var i = 0; i < 16; i++) (await http.PostAsync("/classify", new ByteArrayContent(uploads[i % uploads.Count]))).EnsureSuccessStatusCode();
        var rssStart = Rss();
        var latencies = new double[clients * requestsPerClient];
        var errors = 0;
        var rssSamples = new List<double>();
        var wall = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            for (var i = 0; i < requestsPerClient; i++)
            {
                var clock = Stopwatch.StartNew();
                using var response = await http.PostAsync("/classify", new ByteArrayContent(uploads[(c * 7 + i) % uploads.Count]));
                latencies[c * requestsPerClient + i] = clock.Elapsed.TotalMilliseconds;
                if (!response.IsSuccessStatusCode) Interlocked.Increment(ref errors);
                if (c == 0 && i % 100 == 99) lock (rssSamples) rssSamples.Add(Rss());
            }
        })).ToList();
        await Task.WhenAll(tasks);
        wall.Stop();
        await app.StopAsync();
        Array.Sort(latencies);
        double P(double q) => latencies[(int)Math.Min(latencies.Length - 1, Math.Round(q * (latencies.Length - 1)))];
        Console.WriteLine(string.Create(inv,
            $"load: {clients} clients × {requestsPerClient} requests on 127.0.0.1 in {wall.Elapsed.TotalSeconds:0.0} s = {latencies.Length / wall.Elapsed.TotalSeconds:0} requests/s; errors {errors}; latency p50 {P(0.5):0} ms, p95 {P(0.95):0} ms, p99 {P(0.99):0} ms"));
        Console.WriteLine(string.Create(inv,
            $"resident memory during the load: {rssStart:0} MiB after warm-up, then every 100 requests of client 0: {string.Join(", ", rssSamples.Select(r => r.ToString("0", inv)))} MiB"));
    }

    // VmRSS of this process in MiB.
    private static double Rss()
    {
        GC.Collect();
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return process.WorkingSet64 / 1048576.0;
    }
}
