using System.Diagnostics;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Imaging;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>
/// Seeded random mutations of real checkpoints and images (bit flips, overwritten runs,
/// truncation, insertion): each mutated file either loads or fails with the library's own
/// documented exception — never a crash, a hang, or an exception from deep inside a library.
/// The hostile checkpoints of <see cref="CraftedCheckpoints"/> are mutated too, and must stay
/// refused without allocating for what they describe.
/// </summary>
public class MutationTests(CraftedCheckpointFiles crafted) : IClassFixture<CraftedCheckpointFiles>
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(12);
    private static readonly TimeSpan CraftedBudget = TimeSpan.FromSeconds(3);
    private const long CraftedAllocationLimit = 200L << 20;
    private static readonly EfficientNetArchitecture B0 = EfficientNetArchitecture.For(EfficientNetVariant.B0);

    public static TheoryData<string> CraftedCases => [.. CraftedCheckpoints.Cases.Keys];

    [Theory]
    [InlineData("small.pth")]
    [InlineData("small.safetensors")]
    public void Mutated_checkpoints_load_or_fail_with_CheckpointFormatException(string name)
    {
        var original = File.ReadAllBytes(TorchvisionFixtures.File(name));
        var (tried, failures) = Mutate(original, name, path =>
        {
            try { CheckpointReader.Read(path); return null; }
            catch (CheckpointFormatException) { return null; }
            catch (Exception ex) { return ex; }
        });
        Assert.True(tried >= 300, $"only {tried} mutations fitted in the time budget");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(3)));
    }

    [Theory]
    [MemberData(nameof(CraftedCases))]
    public void Mutated_crafted_checkpoints_stay_refused_within_the_memory_bound(string name)
    {
        var original = File.ReadAllBytes(crafted.Paths[name]);
        var (tried, failures) = Mutate(original, Path.GetFileName(crafted.Paths[name]), path =>
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                CheckpointLoader.Load(B0, path);
                return new InvalidOperationException("a crafted file without B0's tensors was accepted");
            }
            catch (CheckpointFormatException) { }
            catch (Exception ex) { return ex; }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            return allocated < CraftedAllocationLimit ? null : new InsufficientMemoryException($"allocated {allocated:N0} bytes before refusing it");
        }, CraftedBudget, minimumTries: 50);
        Assert.True(failures.Count == 0, $"{failures.Count} of {tried} mutations: " + string.Join("\n", failures.Take(3)));
    }

    [Theory]
    [InlineData("discs/discs-01.png")]
    [InlineData("stripes/stripes-02.jpg")]
    public void Mutated_images_decode_or_fail_with_BadImageException(string sample)
    {
        var original = File.ReadAllBytes(Path.Combine(SampleData.Folder, sample));
        var buffer = new float[3 * 64 * 64];
        var (tried, failures) = Mutate(original, Path.GetFileName(sample), path =>
        {
            try
            {
                // The full check and the decoder must agree on every mutant: what one passes, the other decodes;
                // and what the header check refuses, the full check refuses too.
                var problem = ImageCheck.Problem(path);
                if (ImageCheck.HeaderProblem(path) is { } header && problem is null)
                    return new InvalidOperationException($"the header check says '{header}', the full check 'fine'");
                string? refused = null;
                try { FastImageDecoder.Decode(path, 64, buffer); }
                catch (BadImageException ex) { refused = ex.Reason; }
                return (problem is null) == (refused is null) ? null
                    : new InvalidOperationException($"the check says '{problem ?? "fine"}', the decoder '{refused ?? "fine"}'");
            }
            catch (Exception ex) { return ex; }
        });
        Assert.True(tried >= 100, $"only {tried} mutations fitted in the time budget");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(3)));
    }

    private static (int Tried, List<string> Failures) Mutate(byte[] original, string name, Func<string, Exception?> load, TimeSpan? budget = null, int minimumTries = 0)
    {
        using var dir = new TempDir();
        var path = dir.File(name);
        var random = new Random(20261125);
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        var tried = 0;
        while ((clock.Elapsed < (budget ?? Budget) || tried < minimumTries) && tried < 2000)
        {
            var bytes = (byte[])original.Clone();
            switch (random.Next(4))
            {
                case 0:
                    for (var k = random.Next(1, 8); k > 0; k--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:
                    var at = random.Next(bytes.Length);
                    for (var i = at; i < Math.Min(bytes.Length, at + random.Next(1, 64)); i++) bytes[i] = (byte)random.Next(256);
                    break;
                case 2:
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                default:
                    var insert = new byte[random.Next(1, 32)];
                    random.NextBytes(insert);
                    var where = random.Next(bytes.Length);
                    bytes = [.. bytes[..where], .. insert, .. bytes[where..]];
                    break;
            }
            File.WriteAllBytes(path, bytes);
            if (load(path) is { } ex) failures.Add($"mutation {tried}: {ex.GetType().Name}: {ex.Message}");
            tried++;
        }
        return (tried, failures);
    }
}
