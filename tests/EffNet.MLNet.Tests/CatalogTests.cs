using System.Security.Cryptography;
using EffNet.MLNet.Catalog;

namespace EffNet.MLNet.Tests;

/// <summary>The pretrained-weights download path, against a local HTTP server the test starts.</summary>
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
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress);
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
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress);

        server.CutAfter = 300_000;
        var first = Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry));
        Assert.Contains(entry.FileName, first.Message);
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
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress);

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
        var catalog = new PretrainedCatalog(cache.Path, server.BaseAddress);

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
        var catalog = new PretrainedCatalog(cache.Path, closed);

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
        var catalog = new PretrainedCatalog(cache.Path, $"http://127.0.0.1:{LocalFileServer.FreePort()}/");
        File.WriteAllBytes(Path.Combine(cache.Path, entry.FileName), content);
        Assert.Equal(Path.Combine(cache.Path, entry.FileName), new WeightsDownloader(catalog).Ensure(entry));

        var (wrong, entry2) = (TestFile(seed: 3).Content, TestFile(seed: 4).Entry);
        File.WriteAllBytes(Path.Combine(cache.Path, entry2.FileName), wrong);
        Assert.Contains("not the published file", Assert.Throws<WeightsUnavailableException>(() => new WeightsDownloader(catalog).Ensure(entry2)).Message);
    }

    [Fact]
    public void Catalog_lists_torchvisions_weights_and_honours_the_mirror()
    {
        Assert.Equal(8, PretrainedCatalog.Entries.Count);
        var b3 = PretrainedCatalog.Find("b3")!;
        Assert.Equal("cf984f9c", b3.Sha256Prefix);
        Assert.Equal(new EvalTransform(320, 300, "bicubic"), b3.Eval);
        Assert.Equal(82.008, b3.Top1);
        Assert.Equal("https://download.pytorch.org/models/efficientnet_b3_rwightman-cf984f9c.pth", b3.Url.ToString());
        var mirrored = new PretrainedCatalog("/tmp/x", "http://mirror.local/models");
        Assert.Equal("http://mirror.local/models/efficientnet_b3_rwightman-cf984f9c.pth", mirrored.AddressOf(b3).ToString());
    }

    private sealed class SyncProgress(Action<DownloadProgress> report) : IProgress<DownloadProgress>
    {
        public void Report(DownloadProgress value) => report(value);
    }
}
