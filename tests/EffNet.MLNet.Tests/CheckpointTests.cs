using System.IO.Compression;
using System.Text;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Weights;

namespace EffNet.MLNet.Tests;

public class CheckpointTests
{
    private static readonly EfficientNetArchitecture B0 = EfficientNetArchitecture.For(EfficientNetVariant.B0);

    [Fact]
    public void Pth_and_safetensors_of_one_state_dict_read_identically()
    {
        var pth = PthCheckpointReader.Read(TorchvisionFixtures.File("b0.pth"));
        var st = SafetensorsReader.Read(TorchvisionFixtures.File("b0.safetensors"));
        Assert.Equal(st.Keys.Order(), pth.Keys.Order());
        foreach (var (name, t) in st)
        {
            Assert.Equal(t.Shape, pth[name].Shape);
            Assert.Equal(t.Data, pth[name].Data);
        }
        // torchvision B0: 5,288,548 parameters plus 4 batch-norm buffers per norm layer.
        Assert.Equal(new[] { 32, 3, 3, 3 }, pth["features.0.0.weight"].Shape);
        Assert.Equal(1000f, pth["features.0.1.num_batches_tracked"].Data.Single());
        Assert.Equal(new[] { 1000, 1280 }, pth["classifier.1.weight"].Shape);
    }

    [Fact]
    public void Loader_maps_every_tensor_and_keeps_the_classifier()
    {
        var weights = CheckpointLoader.Load(B0, TorchvisionFixtures.File("b0.pth"));
        Assert.Equal(B0.ConvLayers.Count(), weights.Convolutions.Count);
        Assert.Equal(1000, weights.Classifier!.Classes);
    }

    [Fact]
    public void Pickle_calling_os_system_is_refused_without_running_it()
    {
        const string marker = "/tmp/effnet-pickle-was-executed";
        File.Delete(marker);
        var ex = Assert.Throws<CheckpointFormatException>(() => PthCheckpointReader.Read(TorchvisionFixtures.File("malicious.pth")));
        Assert.Contains("posix.system", ex.Message);
        Assert.Contains("malicious.pth", ex.Message);
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData("builtins", "eval")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    [InlineData("__builtin__", "getattr")]
    public void Any_global_outside_the_allow_list_is_named_in_the_error(string module, string name)
    {
        using var dir = new TempDir();
        var path = dir.File("hostile.pth");
        // PROTO 2, GLOBAL module.name, ('x',), REDUCE, STOP
        var pickle = new List<byte> { 0x80, 2, (byte)'c' };
        pickle.AddRange(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
        pickle.AddRange([(byte)'X', 1, 0, 0, 0, (byte)'x', 0x85, (byte)'R', (byte)'.']);
        WriteTorchZip(path, [.. pickle]);
        var ex = Assert.Throws<CheckpointFormatException>(() => PthCheckpointReader.Read(path));
        Assert.Contains($"'{module}.{name}'", ex.Message);
        Assert.Contains("nothing was executed", ex.Message);
    }

    [Fact]
    public void Wrong_variant_fails_naming_the_first_mismatched_tensor_and_both_shapes()
    {
        var b3 = EfficientNetArchitecture.For(EfficientNetVariant.B3);
        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.Load(b3, TorchvisionFixtures.File("b0.pth")));
        Assert.Contains("'features.0.0.weight'", ex.Message);
        Assert.Contains("[32, 3, 3, 3]", ex.Message);
        Assert.Contains("[40, 3, 3, 3]", ex.Message);
        Assert.Contains("b3", ex.Message);
    }

    [Fact]
    public void Same_widths_but_fewer_blocks_fail_on_the_extra_tensor()
    {
        // B1 is B0 with more blocks: loading B1 into B0 leaves B1's extra blocks without a place.
        var tensors = PthCheckpointReader.Read(TorchvisionFixtures.File("b0.pth")).ToDictionary();
        tensors["features.7.1.block.0.0.weight"] = new CheckpointTensor("features.7.1.block.0.0.weight", [1920, 320, 1, 1], new float[1920 * 320]);
        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.FromTensors(B0, tensors, "b1.pth"));
        Assert.Contains("'features.7.1.block.0.0.weight'", ex.Message);
        Assert.Contains("no place", ex.Message);
    }

    [Fact]
    public void Missing_tensor_is_named_with_its_expected_shape()
    {
        var tensors = PthCheckpointReader.Read(TorchvisionFixtures.File("b0.pth")).ToDictionary();
        Assert.True(tensors.Remove("features.3.1.block.2.fc1.bias"));
        var ex = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.FromTensors(B0, tensors, "partial.pth"));
        Assert.Contains("'features.3.1.block.2.fc1.bias'", ex.Message);
        Assert.Contains("[10]", ex.Message);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public void Truncated_pth_fails_with_a_clear_message(double fraction)
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(TorchvisionFixtures.File("b0.pth"));
        var path = dir.File("truncated.pth");
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * fraction)]);
        var ex = Assert.Throws<CheckpointFormatException>(() => PthCheckpointReader.Read(path));
        Assert.Contains("truncated", ex.Message);
        Assert.Contains("truncated.pth", ex.Message);
    }

    [Fact]
    public void Truncated_safetensors_fails_with_a_clear_message()
    {
        using var dir = new TempDir();
        var bytes = File.ReadAllBytes(TorchvisionFixtures.File("b0.safetensors"));
        var path = dir.File("truncated.safetensors");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 100)]);
        var ex = Assert.Throws<CheckpointFormatException>(() => SafetensorsReader.Read(path));
        Assert.Contains("outside the", ex.Message);
        Assert.Contains("truncated.safetensors", ex.Message);
    }

    [Fact]
    public void Safetensors_with_an_absurd_header_length_is_refused_before_allocating()
    {
        using var dir = new TempDir();
        var path = dir.File("absurd.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(ulong.MaxValue - 5), .. "{}"u8.ToArray()]);
        var ex = Assert.Throws<CheckpointFormatException>(() => SafetensorsReader.Read(path));
        Assert.Contains("header claims", ex.Message);

        // A header that is really there but far larger than any checkpoint's is refused before it is parsed.
        var big = dir.File("big-header.safetensors");
        var header = "{\"__metadata__\":{\"x\":\"" + new string('a', 17 << 20) + "\"}}";
        File.WriteAllBytes(big, [.. BitConverter.GetBytes((ulong)header.Length), .. System.Text.Encoding.ASCII.GetBytes(header)]);
        Assert.Contains("refusing it before parsing", Assert.Throws<CheckpointFormatException>(() => SafetensorsReader.Read(big)).Message);
    }

    [Fact]
    public void Empty_legacy_and_foreign_files_are_told_apart()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("empty.pth"), []);
        File.WriteAllBytes(dir.File("legacy.pth"), [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19]);
        File.WriteAllText(dir.File("page.pth"), "<html>not found</html>");
        Assert.Contains("empty", Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(dir.File("empty.pth"))).Message);
        Assert.Contains("legacy", Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(dir.File("legacy.pth"))).Message);
        Assert.Contains("not a PyTorch checkpoint", Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(dir.File("page.pth"))).Message);
        Assert.Throws<FileNotFoundException>(() => CheckpointReader.Read(dir.File("absent.pth")));
    }

    [Fact]
    public void Batch_norm_folding_matches_the_formula()
    {
        var w = BatchNormFolding.Fold([1f, 2f, 3f, 4f], gamma: [2f, 0.5f], beta: [0.1f, -0.2f], mean: [1f, -1f], variance: [3f, 0.25f], epsilon: 1.0);
        // channel 0: scale 2/√4 = 1 → kernel [1, 2], bias 0.1 − 1·1 = −0.9
        // channel 1: scale 0.5/√1.25 → kernel [3, 4]·s, bias −0.2 + s
        var s = 0.5 / Math.Sqrt(1.25);
        Assert.Equal([1f, 2f, (float)(3 * s), (float)(4 * s)], w.Kernel);
        Assert.Equal(-0.9f, w.Bias[0], 6);
        Assert.Equal((float)(-0.2 + s), w.Bias[1], 6);
    }

    [Fact]
    public void Timm_names_map_onto_the_same_layers()
    {
        // The same tensors under timm's names load to identical folded weights.
        var tv = PthCheckpointReader.Read(TorchvisionFixtures.File("b0.pth"));
        var renamed = new Dictionary<string, CheckpointTensor>();
        foreach (var layer in B0.ConvLayers)
        {
            void Copy(string from, string to) => renamed[to] = tv[from] with { Name = to };
            var (tc, mc) = (CheckpointNaming.Torchvision.ConvPrefix(layer), CheckpointNaming.Timm.ConvPrefix(layer));
            Copy(tc + ".weight", mc + ".weight");
            if (!layer.HasBatchNorm) { Copy(tc + ".bias", mc + ".bias"); continue; }
            var (tb, mb) = (CheckpointNaming.Torchvision.BatchNormPrefix(layer), CheckpointNaming.Timm.BatchNormPrefix(layer));
            foreach (var part in new[] { "weight", "bias", "running_mean", "running_var" }) Copy($"{tb}.{part}", $"{mb}.{part}");
        }
        Assert.Contains("blocks.0.0.conv_dw.weight", renamed.Keys);
        Assert.Contains("blocks.1.0.conv_pwl.weight", renamed.Keys);
        Assert.Contains("blocks.0.0.conv_pw.weight", renamed.Keys);
        var a = CheckpointLoader.FromTensors(B0, renamed, "timm.pth");
        var b = CheckpointLoader.FromTensors(B0, tv, "tv.pth");
        Assert.All(b.Convolutions, kv => Assert.Equal(kv.Value.Kernel, a.Convolutions[kv.Key].Kernel));
    }

    internal static void WriteTorchZip(string path, byte[] pickle)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) s.Write(pickle);
        using (var s = zip.CreateEntry("archive/version", CompressionLevel.NoCompression).Open()) s.Write("3\n"u8);
    }
}
