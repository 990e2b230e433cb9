using System.Globalization;
using EffNet.MLNet.AspNetCore;
using EffNet.MLNet.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EffNet.MLNet.Benchmarks;

/// <summary>
/// The suite's hostile serving load, long: MapImageClassifier on Kestrel at 127.0.0.1 with its default
/// limits, for <c>seconds</c>, under 8 clients posting good photos, 2 posting decompression bombs and 20
/// uploads that send 8 MiB of a declared 32 MiB and stall. Prints p50/p95 of the good requests that got
/// 200, how every kind of request was answered, and the process's peak resident memory.
/// </summary>
internal static class ServingLoadBenchmark
{
    public static int Run(int seconds)
    {
        var inv = CultureInfo.InvariantCulture;
        var dir = Directory.CreateTempSubdirectory("effnet-serving-load-");
        try
        {
            var model = Path.Combine(dir.FullName, "model.zip");
            var photos = ServingBenchmark.TrainSampleModel(model).Select(File.ReadAllBytes).ToList();
            var builder = WebApplication.CreateBuilder(["--urls", "http://127.0.0.1:0"]);
            builder.Logging.ClearProviders();
            builder.Services.AddImageClassifier(model);
            using var app = builder.Build();
            app.MapImageClassifier("/v2/classify");
            app.StartAsync().GetAwaiter().GetResult();
            var url = new Uri(app.Urls.Single());
            using (var http = new HttpClient { BaseAddress = url })
                for (var i = 0; i < 16; i++) http.PostAsync("/v2/classify", new ByteArrayContent(photos[i % photos.Count])).GetAwaiter().GetResult().EnsureSuccessStatusCode();

            var report = ServingLoad.Run(url, photos, [CraftedBombs.Png(), CraftedBombs.Gif(), CraftedBombs.Jpeg(), CraftedBombs.Png(4000)],
                TimeSpan.FromSeconds(seconds), stalledUploads: 20, goodClients: 8, bombClients: 2).GetAwaiter().GetResult();
            app.StopAsync().GetAwaiter().GetResult();
            Console.WriteLine(string.Create(inv,
                $"serving-load: {seconds} s on 127.0.0.1, {Environment.ProcessorCount} cores, default limits; good photos: {report.GoodOk} × 200 (p50 {report.Percentile(50):0} ms, p95 {report.Percentile(95):0} ms), {report.GoodBusy} × 503"));
            Console.WriteLine(string.Create(inv,
                $"bombs refused: {report.BombsRefused}; stalled uploads: {report.StalledCut} cut (408), {report.StalledBusy} turned away (503); unexpected answers: {report.Unexpected.Count}"));
            Console.WriteLine(string.Create(inv,
                $"resident memory: peak during the load {report.PeakDuringLoadBytes / 1048576.0:0} MiB (growth {report.PeakGrowthBytes / 1048576.0:0} MiB over the warm server); process peak {report.PeakWorkingSetBytes / 1048576.0:0} MiB (sample-model training included)"));
            foreach (var what in report.Unexpected.Distinct().Take(10)) Console.WriteLine($"  unexpected: {what}");
            return report.Unexpected.Count == 0 ? 0 : 1;
        }
        finally
        {
            try { dir.Delete(recursive: true); } catch (IOException) { }
        }
    }
}
