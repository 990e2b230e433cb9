using System.Diagnostics;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

/// <summary>The crafted checkpoints of <see cref="CraftedCheckpoints"/> written once, in one folder.</summary>
public sealed class CraftedCheckpointFiles : IDisposable
{
    private readonly TempDir _dir = new();

    public CraftedCheckpointFiles()
    {
        foreach (var name in CraftedCheckpoints.Cases.Keys) Paths[name] = CraftedCheckpoints.Write(_dir.Path, name);
    }

    public Dictionary<string, string> Paths { get; } = [];

    public void Dispose() => _dir.Dispose();
}

/// <summary>
/// Checkpoints of a few kilobytes that describe gigabytes are refused before their data is
/// allocated: quickly, naming the file and the problem, with the allocations on the loading
/// thread measured.
/// </summary>
public class HostileCheckpointTests(CraftedCheckpointFiles files) : IClassFixture<CraftedCheckpointFiles>
{
    private const long AllocationLimit = 200L << 20;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(5);
    private static readonly EfficientNetArchitecture B0 = EfficientNetArchitecture.For(EfficientNetVariant.B0);

    public static TheoryData<string> AllCases => [.. CraftedCheckpoints.Cases.Keys];

    // huge-tensor is a plain (if huge) tensor: only the architecture's shapes tell it apart.
    public static TheoryData<string> CasesRefusedWithoutArchitecture => [.. CraftedCheckpoints.Cases.Keys.Where(k => k != "huge-tensor")];

    [Theory]
    [MemberData(nameof(AllCases))]
    public void Loading_into_B0_refuses_the_file_before_allocating_its_data(string name)
    {
        var path = files.Paths[name];
        Assert.True(new FileInfo(path).Length < 1_100_000, $"{name} is {new FileInfo(path).Length} bytes; the cases are meant to be small files");
        var ex = Refused(() => CheckpointLoader.Load(B0, path), out var allocated, out var elapsed);
        Assert.True(allocated < AllocationLimit, $"{name} allocated {allocated:N0} bytes before it was refused");
        Assert.True(elapsed < TimeLimit, $"{name} took {elapsed.TotalSeconds:F1} s to refuse");
        Assert.Contains(path, ex.Message);
        Assert.Contains(CraftedCheckpoints.Cases[name].Problem, ex.Message);
    }

    [Theory]
    [MemberData(nameof(CasesRefusedWithoutArchitecture))]
    public void Reading_without_an_architecture_refuses_it_too(string name)
    {
        var path = files.Paths[name];
        var ex = Refused(() => CheckpointReader.Read(path), out var allocated, out var elapsed);
        Assert.True(allocated < AllocationLimit, $"{name} allocated {allocated:N0} bytes before it was refused");
        Assert.True(elapsed < TimeLimit, $"{name} took {elapsed.TotalSeconds:F1} s to refuse");
        Assert.Contains(CraftedCheckpoints.Cases[name].Problem, ex.Message);
    }

    [Fact]
    public void A_tensor_view_with_matching_shape_and_distinct_strides_still_loads()
    {
        // The checks refuse repeated elements, not every non-contiguous view: a transposed 4×6 reads as before.
        using var dir = new TempDir();
        var path = dir.File("transposed.pth");
        CraftedCheckpoints.WritePth(path, [new("t", "0", 2, [6, 4], [1, 6])], new() { ["0"] = CraftedCheckpoints.Storage.Stored(26 * 4) });
        var t = CheckpointReader.Read(path)["t"];
        Assert.Equal(new[] { 6, 4 }, t.Shape);
        Assert.Equal(24, t.Data.Length);
    }

    [Fact]
    public void The_data_read_is_capped_and_the_cap_is_named()
    {
        using var index = CheckpointIndex.Open(TorchvisionFixtures.File("small.pth"));
        var budget = new ReadBudget(index.Path, 200, "a test's cap");
        var ex = Assert.Throws<CheckpointFormatException>(() => index.ReadAll(budget));
        Assert.Contains("over the 200-byte cap (a test's cap)", ex.Message);
        Assert.True(budget.UsedBytes <= 200);
    }

    [Fact]
    public void A_classifier_with_absurdly_many_classes_is_refused_before_reading()
    {
        var tensors = PthCheckpointReader.Read(TorchvisionFixtures.File("b0.pth")).ToDictionary();
        // No data behind it: the shape alone must be enough to refuse it.
        tensors["classifier.1.weight"] = new CheckpointTensor("classifier.1.weight", [1_000_000, 1280], []);
        tensors["classifier.1.bias"] = new CheckpointTensor("classifier.1.bias", [1_000_000], []);
        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.FromTensors(B0, tensors, "wide.pth"));
        Assert.Contains("1,000,000 classes", ex.Message);
    }

    private static CheckpointFormatException Refused(Action load, out long allocated, out TimeSpan elapsed)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        CheckpointFormatException? refused = null;
        try { load(); }
        catch (CheckpointFormatException ex) { refused = ex; }
        elapsed = clock.Elapsed;
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        return refused ?? throw new Xunit.Sdk.XunitException("the file was accepted");
    }
}
