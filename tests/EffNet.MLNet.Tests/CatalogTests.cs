using System.Security.Cryptography;
using EffNet.MLNet.Catalog;

namespace EffNet.MLNet.Tests;

/// <summary>
/// The pretrained-weights download path, against a local HTTP server the test starts (plain
/// http on loopback, so every catalog here opts in with AllowHttp, except the test of the refusal).
/// </summary>
public class CatalogTests
{
    private static (byte[] Content, PretrainedWeights Entry) TestFile(int size = 600_000, int seed = 1)
    {
        var content = new byte[size];
        new Random(seed).NextBytes(content);
        var prefix = Convert.ToHexStringLower(SHA256.HashData(content))[..8];
        var name = $"efficientnet_b0_test-{prefix}.pth";
        return (content, new PretrainedWeights("b0", name, new Uri("http://unused.invalid/" + name), prefix, new EvalTransform(256, 224, "bicubic"), 0));
    }

    [Fact]
    public void Downloads_verifies_and_then_reuses_the_cached_file()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer();
        var (content, entry) = TestFile();
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true };
        var reports = new List<DownloadProgress>();

        var path = new WeightsDownloader(catalog).Ensure(entry, new SyncProgress(reports.Add));
        Assert.Equal(Path.Combine(cache.Path, entry.FileName), path);
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal(content.Length, reports[^1].Bytes);
        Assert.Equal(content.Length, reports[^1].TotalBytes);

        Assert.Equal(path, new WeightsDownloader(catalog).Ensure(entry));
        Assert.Single(server.Requests);
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void An_interrupted_download_resumes_from_the_partial_file()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer();
        var (content, entry) = TestFile(1_000_000);
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true, Attempts = 1 };

        server.CutAfter = 300_000;
        var first = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry));
        Assert.Contains(entry.FileName, first.Message);
        // One message for an app's crash report, not a chain of socket exceptions (issue #20).
        // Mutation: pass the HttpRequestException on as the inner exception -> fails.
        Assert.Null(first.InnerException);
        var partial = Path.Combine(cache.Path, entry.FileName + ".partial");
        Assert.Equal(300_000, new FileInfo(partial).Length);

        var path = new WeightsDownloader(catalog).Ensure(entry);
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal("bytes=300000-", server.Requests[^1].Range);
        Assert.False(File.Exists(partial));
    }

    [Fact]
    public void A_file_whose_hash_does_not_match_is_refused_and_removed()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer();
        var (_, entry) = TestFile();
        var (other, _) = TestFile(seed: 2);
        server.Add(entry.FileName, other);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true };

        var ex = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry));
        Assert.Contains("refused and removed", ex.Message);
        Assert.Contains(entry.Sha256Prefix, ex.Message);
        Assert.DoesNotContain(Directory.GetFiles(cache.Path), f => !f.EndsWith(".lock"));
    }

    [Fact]
    public async Task Two_concurrent_downloads_fetch_once_and_both_get_the_verified_file()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer { Throttle = TimeSpan.FromMilliseconds(20) };
        var (content, entry) = TestFile(1_500_000);
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true };

        var tasks = Enumerable.Range(0, 2).Select(_ => Task.Run(() => new WeightsDownloader(catalog).Ensure(entry))).ToArray();
        var paths = await Task.WhenAll(tasks);
        Assert.All(paths, p => Assert.Equal(content, File.ReadAllBytes(p)));
        Assert.Single(server.Requests);
    }

    [Fact]
    public void Offline_error_names_the_file_the_address_and_where_to_put_it()
    {
        using var cache = new TempDir();
        var (_, entry) = TestFile();
        var closed = $"http://127.0.0.1:{LocalFileServer.FreePort()}/mirror/";
        var catalog = new PretrainedCatalog(cache.Path, closed) { AllowHttp = true, RetryDelay = TimeSpan.FromMilliseconds(10) };

        var ex = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry));
        Assert.Contains(entry.FileName, ex.Message);
        Assert.Contains(closed + entry.FileName, ex.Message);
        Assert.Contains(Path.Combine(cache.Path, entry.FileName), ex.Message);
        Assert.Contains("EFFNET_MIRROR", ex.Message);
    }

    [Fact]
    public void A_file_placed_by_hand_is_verified_before_use()
    {
        using var cache = new TempDir();
        var (content, entry) = TestFile();
        var catalog = new PretrainedCatalog(cache.Path, $"http://127.0.0.1:{LocalFileServer.FreePort()}/") { AllowHttp = true };
        File.WriteAllBytes(Path.Combine(cache.Path, entry.FileName), content);
        Assert.Equal(Path.Combine(cache.Path, entry.FileName), new WeightsDownloader(catalog).Ensure(entry));

        var (wrong, entry2) = (TestFile(seed: 3).Content, TestFile(seed: 4).Entry);
        File.WriteAllBytes(Path.Combine(cache.Path, entry2.FileName), wrong);
        Assert.Contains("not the published file", Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry2)).Message);
    }

    [Fact]
    public void Plain_http_is_refused_without_the_opt_in_even_on_loopback()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer();
        var (content, entry) = TestFile();
        server.Add(entry.FileName, content);

        var ex = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(new PretrainedCatalog(cache.Path, server.BaseAddress)).Ensure(entry));
        Assert.Contains(entry.FileName, ex.Message);
        Assert.Contains(server.BaseAddress + entry.FileName, ex.Message);
        Assert.Contains("plain http", ex.Message);
        Assert.Contains("EFFNET_ALLOW_HTTP=1", ex.Message);
        Assert.Contains(Path.Combine(cache.Path, entry.FileName), ex.Message);
        Assert.Empty(server.Requests);

        var other = Assert.Throws<WeightsUnavailableException>(() =>
            new WeightsDownloader(new PretrainedCatalog(cache.Path, "ftp://127.0.0.1/models/") { AllowHttp = true }).Ensure(entry));
        Assert.Contains("not ftp", other.Message);

        // The same catalog with the explicit opt-in downloads.
        var path = new WeightsDownloader(new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true }).Ensure(entry);
        Assert.Equal(content, File.ReadAllBytes(path));
    }

    [Fact]
    public void A_stalled_download_fails_after_the_stall_timeout_and_the_next_run_resumes()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer();
        var (content, entry) = TestFile(1_000_000);
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true, StallTimeout = TimeSpan.FromSeconds(1), Attempts = 1 };

        server.StallAfter = 200_000;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ex = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the stalled download took {clock.Elapsed.TotalSeconds:F1} s to fail");
        Assert.Contains("sent nothing for 1 s after 200,000 bytes", ex.Message);
        Assert.Contains(entry.FileName, ex.Message);
        Assert.Contains(server.BaseAddress + entry.FileName, ex.Message);
        Assert.Contains("resumes", ex.Message);

        var path = new WeightsDownloader(catalog).Ensure(entry);
        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.Equal("bytes=200000-", server.Requests[^1].Range);
    }

    [Fact]
    public void A_stall_is_retried_and_the_retry_resumes_within_one_call()
    {
        using var server = new LocalFileServer();
        var (content, entry) = TestFile(1_000_000);
        server.Add(entry.FileName, content);
        PretrainedCatalog Catalog(string cache) => new(cache, server.BaseAddress)
        {
            AllowHttp = true, StallTimeout = TimeSpan.FromSeconds(1), Attempts = 3, RetryDelay = TimeSpan.FromMilliseconds(10),
        };

        using var cache = new TempDir();
        server.StallBeforeHeaders = true;
        Assert.Equal(content, File.ReadAllBytes(new WeightsDownloader(Catalog(cache.Path)).Ensure(entry)));
        Assert.Equal(2, server.Requests.Count);

        using var cache2 = new TempDir();
        server.StallAfter = 300_000;
        Assert.Equal(content, File.ReadAllBytes(new WeightsDownloader(Catalog(cache2.Path)).Ensure(entry)));
        Assert.Equal(4, server.Requests.Count);
        Assert.Equal("bytes=300000-", server.Requests[^1].Range);
    }

    [Fact]
    public void Server_errors_are_retried_with_growing_waits_until_one_succeeds()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer { FailFirst = 3 };
        var (content, entry) = TestFile();
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true, Attempts = 4, RetryDelay = TimeSpan.FromMilliseconds(200) };

        Assert.Equal(content, File.ReadAllBytes(new WeightsDownloader(catalog).Ensure(entry)));
        Assert.Equal(4, server.Requests.Count);
        // Waits of 200, 400 and 800 ms between the four requests; a gap can be longer than its wait (a loaded machine), never shorter.
        var gaps = server.RequestTimes.Zip(server.RequestTimes.Skip(1), (a, b) => (b - a).TotalMilliseconds).ToArray();
        Assert.True(gaps[0] >= 190 && gaps[1] >= 390 && gaps[2] >= 790, $"gaps between attempts: {string.Join(", ", gaps.Select(g => $"{g:F0} ms"))}");
    }

    [Fact]
    public void Retries_give_up_after_the_last_attempt_and_a_404_is_not_retried()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer { FailFirst = 10 };
        var (content, entry) = TestFile();
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true, Attempts = 3, RetryDelay = TimeSpan.FromMilliseconds(10) };

        var ex = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry));
        Assert.Contains("503", ex.Message);
        Assert.Contains("gave up after 3 attempts", ex.Message);
        Assert.Contains(server.BaseAddress + entry.FileName, ex.Message);
        Assert.Equal(3, server.Requests.Count);

        server.FailFirst = 0;
        var (_, missing) = TestFile(seed: 9);
        Assert.Contains("404", Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(missing)).Message);
        Assert.Equal(4, server.Requests.Count);
    }

    [Fact]
    public void A_pinned_full_hash_refuses_a_file_that_only_matches_the_prefix()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer();
        var (content, entry) = TestFile();
        server.Add(entry.FileName, content);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true };
        var target = Path.Combine(cache.Path, entry.FileName);
        var actual = Convert.ToHexStringLower(SHA256.HashData(content));
        // Same 8-hex prefix, different rest: what a forged file that matches the name would have.
        var forgedPin = actual[..8] + new string(actual[8..].Select(c => c == '0' ? '1' : '0').ToArray());

        File.WriteAllText(target + ".sha256", $"{forgedPin}  {entry.FileName}\n");
        var ex = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry));
        Assert.Contains($"pins {forgedPin}", ex.Message);
        Assert.Contains("refused and removed", ex.Message);
        Assert.Contains(target + ".sha256", ex.Message);
        Assert.False(File.Exists(target));
        Assert.False(File.Exists(target + ".partial"));

        // The catalog's own full hash is held to the same way.
        File.Delete(target + ".sha256");
        var withKnownHash = entry with { Sha256 = forgedPin };
        Assert.Contains("the catalog pins", Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(withKnownHash)).Message);

        // The right pin (sha256sum's format, any case) lets it through; a pin changed later is checked against the verified file.
        File.WriteAllText(target + ".sha256", $"{actual.ToUpperInvariant()}  {entry.FileName}\n");
        Assert.Equal(content, File.ReadAllBytes(new WeightsDownloader(catalog).Ensure(entry)));
        File.WriteAllText(target + ".sha256", forgedPin);
        Assert.Contains("not the published", Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry)).Message);

        File.WriteAllText(target + ".sha256", "<html>not a hash</html>");
        var bad = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry));
        Assert.Contains("64 hex digits", bad.Message);
        Assert.Contains(target + ".sha256", bad.Message);
    }

    [Fact]
    public void A_cache_from_before_pins_keeps_working_its_old_marker_read_as_a_pin()
    {
        // Earlier versions wrote FILE.sha256 as "hash size ticks" after verifying; its first word is the file's own hash.
        using var cache = new TempDir();
        var (content, entry) = TestFile();
        var target = Path.Combine(cache.Path, entry.FileName);
        File.WriteAllBytes(target, content);
        var info = new FileInfo(target);
        File.WriteAllText(target + ".sha256", $"{Convert.ToHexStringLower(SHA256.HashData(content))} {info.Length} {info.LastWriteTimeUtc.Ticks}");
        var catalog = new PretrainedCatalog(cache.Path, $"http://127.0.0.1:{LocalFileServer.FreePort()}/");
        Assert.Equal(target, new WeightsDownloader(catalog).Ensure(entry));
        Assert.True(File.Exists(target + ".verified"));
    }

    [Fact]
    public void Catalog_lists_torchvisions_weights_and_honours_the_mirror()
    {
        Assert.Equal(12, PretrainedCatalog.Entries.Count);
        var b3 = PretrainedCatalog.Find("b3")!;
        Assert.Equal("cf984f9c", b3.Sha256Prefix);
        Assert.Equal(new EvalTransform(320, 300, "bicubic"), b3.Eval);
        Assert.Equal(82.008, b3.Top1);
        Assert.Equal("https://download.pytorch.org/models/efficientnet_b3_rwightman-cf984f9c.pth", b3.Url.ToString());
        var mirrored = new PretrainedCatalog("/tmp/x", "http://mirror.local/models");
        Assert.Equal("http://mirror.local/models/efficientnet_b3_rwightman-cf984f9c.pth", mirrored.AddressOf(b3).ToString());
    }

    // torchvision's EfficientNet_V2_*_Weights.IMAGENET1K_V1 and timm's efficientnet_lite0.ra_in1k, as published.
    // Mutation: V2-S's eval transform 384 → 384 bilinear written as the B family's bicubic 256/224 ratio -> fails.
    // Mutation: V2-L without its mean/std 0.5 -> fails.
    [Theory]
    [InlineData("v2-s", "https://download.pytorch.org/models/efficientnet_v2_s-dd5fe13b.pth", "dd5fe13b", 384, 384, "bilinear", 0.485f, 84.228)]
    [InlineData("v2-m", "https://download.pytorch.org/models/efficientnet_v2_m-dc08266a.pth", "dc08266a", 480, 480, "bilinear", 0.485f, 85.112)]
    [InlineData("v2-l", "https://download.pytorch.org/models/efficientnet_v2_l-59c71312.pth", "59c71312", 480, 480, "bicubic", 0.5f, 85.808)]
    [InlineData("lite0", "https://github.com/rwightman/pytorch-image-models/releases/download/v0.1-weights/efficientnet_lite0_ra-37913777.pth", "37913777", 256, 224, "bicubic", 0.485f, 75.5)]
    public void Catalog_lists_the_v2_and_lite_weights_with_the_transform_they_were_evaluated_with(
        string variant, string url, string prefix, int resize, int crop, string interpolation, float firstMean, double top1)
    {
        var entry = PretrainedCatalog.Find(variant)!;
        Assert.Equal(url, entry.Url.ToString());
        Assert.Equal(prefix, entry.Sha256Prefix);
        Assert.Equal((resize, crop, interpolation), (entry.Eval.ResizeSize, entry.Eval.CropSize, entry.Eval.Interpolation));
        Assert.Equal(firstMean, entry.Eval.Mean[0]);
        Assert.Equal(firstMean == 0.5f ? 0.5f : 0.229f, entry.Eval.Std[0]);
        Assert.Equal(top1, entry.Top1);
        Assert.Equal(entry.Eval, PretrainedCatalog.EvalTransformFor(Architecture.EfficientNetVariant.Parse(variant)));
    }

    // The new entries go through the same downloader: a mirror serving another file under V2-S's name is refused by the prefix.
    [Fact]
    public void A_v2_download_from_a_mirror_is_checked_against_torchvisions_prefix()
    {
        using var cache = new TempDir();
        using var server = new LocalFileServer();
        var entry = PretrainedCatalog.Find("v2-s")!;
        server.Add(entry.FileName, new byte[4096]);
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress) { AllowHttp = true };
        var e = Assert.Throws<WeightsUnavailableException>(() => catalog.EnsureWeights("v2-s"));
        Assert.Contains("efficientnet_v2_s-dd5fe13b.pth", e.Message);
        Assert.Contains("dd5fe13b", e.Message);
        Assert.Single(server.Requests);
        Assert.False(File.Exists(Path.Combine(cache.Path, entry.FileName)));
    }

    private sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
