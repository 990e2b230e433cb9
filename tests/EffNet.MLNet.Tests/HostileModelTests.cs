using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;
using EffNet.MLNet.Architecture;
using EffNet.MLNet.Onnx;
using EffNet.MLNet.Training;
using EffNet.MLNet.Weights;
using Google.Protobuf;
using Microsoft.ML;
using Onnx;

namespace EffNet.MLNet.Tests;

/// <summary>
/// model.zip, model.json and bring-your-own ONNX files are untrusted: each crafted here is
/// refused before anything is inflated or allocated for it, in one line naming the file.
/// </summary>
public class HostileModelTests
{
    private const string OnnxEntry = "TransformerChain/Transform_000/Transform_001/OnnxModel";

    private static ModelProto B0Onnx()
    {
        var a = EfficientNetArchitecture.For(EfficientNetVariant.B0);
        return EfficientNetOnnxExporter.Build(a, RandomWeights.Create(a, 1));
    }

    // A zip laid out as ML.NET saves a model, with the given OnnxModel entry written by write.
    private static void WriteModelZip(string path, Action<Stream> writeOnnxEntry, CompressionLevel level = CompressionLevel.Optimal)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("TrainingInfo/Version.txt").Open()) s.Write("1.0.0.0"u8);
        using (var s = zip.CreateEntry(OnnxEntry, level).Open()) writeOnnxEntry(s);
        using (var s = zip.CreateEntry("TransformerChain/Model.key").Open()) s.Write(new byte[448]);
    }

    private static InvalidDataException RefusedQuickly(string path, out long allocated)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        var ex = Assert.Throws<InvalidDataException>(() => SavedModel.Load(new MLContext(0), path));
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Contains(path, ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
        return ex;
    }

    // Mutation: SavedModel.LoadWithSchema without ModelArchive.Check -> ML.NET inflates 400 MB and fails otherwise: fails.
    [Fact]
    public void A_model_zip_whose_onnx_inflates_hugely_is_refused_before_inflating()
    {
        using var dir = new TempDir();
        var path = dir.File("bomb.zip");
        WriteModelZip(path, s =>
        {
            var zeros = new byte[1 << 20];
            for (var i = 0; i < 400; i++) s.Write(zeros);
        }, CompressionLevel.Optimal);
        Assert.True(new FileInfo(path).Length < 2_000_000);

        var ex = RefusedQuickly(path, out var allocated);
        Assert.Contains($"entry '{OnnxEntry}' inflates", ex.Message);
        Assert.Contains("zip bomb", ex.Message);
        Assert.True(allocated < 50L << 20, $"allocated {allocated:N0} bytes");
    }

    // Mutation: SavedModel.LoadWithSchema without ModelArchive.Check -> ML.NET's own error, without the declared size: fails.
    [Fact]
    public void A_model_zip_entry_declaring_gigabytes_is_refused_by_its_declaration()
    {
        using var dir = new TempDir();
        var path = dir.File("declared.zip");
        WriteModelZip(path, s => s.Write(new byte[1000]), CompressionLevel.NoCompression);
        SetDeclaredSizes(path, OnnxEntry, compressed: 3_000_000_000, length: 3_000_000_000);

        var ex = RefusedQuickly(path, out _);
        Assert.Contains("declares 3,000,000,000 bytes inflated", ex.Message);
    }

    // Mutation: ModelArchive.Check skips CheckEmbeddedOnnx -> ML.NET fails on the crafted chain with another message: fails.
    [Fact]
    public void A_model_zip_whose_onnx_reads_external_data_is_refused()
    {
        using var dir = new TempDir();
        // The file a crafted model would read: in the temp folder, where ML.NET writes the embedded ONNX.
        var secret = Path.Combine(Path.GetTempPath(), "effnet-secret-" + Environment.ProcessId + ".bin");
        File.WriteAllBytes(secret, new byte[3456]);
        try
        {
            RefusedWithExternalData(dir, Path.GetFileName(secret));
        }
        finally
        {
            File.Delete(secret);
        }
    }

    private static void RefusedWithExternalData(TempDir dir, string secretName)
    {
        var model = B0Onnx();
        var stem = model.Graph.Initializer[0];
        stem.RawData = ByteString.Empty;
        stem.FloatData.Clear();
        stem.DataLocation = TensorProto.Types.DataLocation.External;
        stem.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = secretName });
        var bytes = model.ToByteArray();
        var path = dir.File("reads-temp.zip");
        WriteModelZip(path, s =>
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            s.Write(length);
            s.Write(bytes);
        });

        var ex = RefusedQuickly(path, out _);
        Assert.Contains($"tensor '{stem.Name}' keeps its data in another file", ex.Message);
    }

    private static string WriteReport(TempDir dir, Action<JsonNode> forge)
    {
        var report = new ModelReport
        {
            Labels = ["discs", "stripes"],
            Backbone = new BackboneReport("b0", "sha", 256, 224, "avg", false, 1280, "id"),
            Trainer = "lbfgs",
            Settings = new TrainingSettingsReport("lbfgs", 0.2, 0, null, null, true, 0, "b0"),
            Data = new DataReport("data", 2, 1, 1, new Dictionary<string, int>(), [], 2, 0, 0),
            Metrics = new ClassificationMetrics(["discs", "stripes"], 1, 1, 0, [], [], 1),
            SavedModelOnValidation = new ClassificationMetrics(["discs", "stripes"], 1, 1, 0, [], [], 1),
            Leaderboard = [],
        };
        var json = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(report, ModelReport.Json))!;
        forge(json);
        var path = dir.File("model.json");
        File.WriteAllText(path, json.ToJsonString());
        return path;
    }

    public static TheoryData<string, string> ForgedReports => new()
    {
        { "settings.variant=b999999", "settings.variant 'b999999' is not a variant" },
        { "settings.variant=phi=10", "parameters, over the" },
        { "backbone.resizeSize=100000", "backbone.resizeSize is 100000, outside 16…1024" },
        { "backbone.cropSize=0", "backbone.cropSize is 0" },
        { "labels=200000", "lists 200,000 labels" },
        { "labels=long", "longer than 1000 characters" },
        { "backbone.featureDimension=-5", "backbone.featureDimension is -5" },
    };

    // Mutation: ModelReport.Load without ModelReportCheck.Check -> the forged file loads: fails.
    [Theory]
    [MemberData(nameof(ForgedReports))]
    public void A_forged_model_json_is_refused_naming_the_field(string forgery, string expected)
    {
        using var dir = new TempDir();
        var (field, value) = (forgery.Split('=', 2)[0], forgery.Split('=', 2)[1]);
        Assert.NotNull(ModelReport.Load(WriteReport(dir, _ => { })));
        var path = WriteReport(dir, json =>
        {
            if (field == "labels")
                json["labels"] = value == "long" ? new JsonArray(new string('x', 5000)) : new JsonArray([.. Enumerable.Range(0, 200_000).Select(i => (JsonNode)JsonValue.Create("l" + i)!)]);
            else if (int.TryParse(value, out var n))
                json[field.Split('.')[0]]![field.Split('.')[1]] = n;
            else
                json[field.Split('.')[0]]![field.Split('.')[1]] = value;
        });

        var ex = Assert.Throws<InvalidDataException>(() => ModelReport.Load(path));
        Assert.Contains(path, ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    private static (string Path, TensorProto Moved, byte[] Data) WriteWithExternalStem(string folder, string location)
    {
        var model = B0Onnx();
        var stem = model.Graph.Initializer.First(t => t.Dims.Count == 4);
        var data = stem.RawData.Length > 0 ? stem.RawData.ToByteArray() : stem.FloatData.SelectMany(BitConverter.GetBytes).ToArray();
        var dataPath = Path.GetFullPath(Path.Combine(folder, location));
        Directory.CreateDirectory(Path.GetDirectoryName(dataPath)!);
        File.WriteAllBytes(dataPath, data);
        stem.RawData = ByteString.Empty;
        stem.FloatData.Clear();
        stem.DataLocation = TensorProto.Types.DataLocation.External;
        stem.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        var path = Path.Combine(folder, "external.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        return (path, stem, data);
    }

    // Mutation: ForeignModelChecks.Check returns before the external-data test -> the model is adapted with a path ONNX Runtime would resolve: fails.
    [Fact]
    public void A_bring_your_own_onnx_with_external_data_is_refused_unless_allowed_and_beside_it()
    {
        using var dir = new TempDir();
        var (path, stem, data) = WriteWithExternalStem(dir.Path, "weights.bin");

        var refused = Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(path, s => s));
        Assert.Contains($"tensor '{stem.Name}' keeps its data in another file (weights.bin)", refused.Message);
        Assert.Contains("AllowExternalData", refused.Message);

        var adapted = ForeignModelAdapter.Adapt(path, s => s, allowExternalData: true);
        var inlined = adapted.Graph.Graph.Initializer.Single(t => t.Name == stem.Name);
        Assert.Equal(data, inlined.RawData.ToByteArray());
        Assert.Empty(inlined.ExternalData);
        Assert.Equal(1280, adapted.FeatureDimension);
    }

    // Mutation: ReadIn skips the same-folder test -> the file in the parent folder is read in: fails.
    [Fact]
    public void External_data_outside_the_models_folder_is_refused_even_when_allowed()
    {
        using var dir = new TempDir();
        var folder = dir.File("model");
        Directory.CreateDirectory(folder);
        var (path, _, _) = WriteWithExternalStem(folder, "../secret.bin");
        var ex = Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(path, s => s, allowExternalData: true));
        Assert.Contains("not a regular file beside the model", ex.Message);
    }

    // Mutation: DeclaredBytes without its budget test -> the model passes the checks (and fails later, or allocates): fails.
    [Fact]
    public void A_bring_your_own_onnx_declaring_a_huge_tensor_is_refused_before_loading()
    {
        using var dir = new TempDir();
        var model = B0Onnx();
        model.Graph.ValueInfo.Add(new ValueInfoProto
        {
            Name = "huge",
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimParam = "batch" }, new TensorShapeProto.Types.Dimension { DimValue = 64 }, new TensorShapeProto.Types.Dimension { DimValue = 13_000 }, new TensorShapeProto.Types.Dimension { DimValue = 13_000 } } } } },
        });
        var path = dir.File("huge.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        var ex = Assert.Throws<CheckpointFormatException>(() => ForeignModelAdapter.Adapt(path, s => s));
        Assert.Contains("tensor 'huge' declares more than 1,073,741,824 bytes", ex.Message);
    }

    // Rewrites the central directory's sizes of one entry (the local header is left as written).
    private static void SetDeclaredSizes(string path, string entry, long compressed, long length)
    {
        var bytes = File.ReadAllBytes(path);
        var end = bytes.Length - 22;
        while (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end)) != 0x06054b50) end--;
        int count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(end + 10));
        var at = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end + 16));
        for (var i = 0; i < count; i++)
        {
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 28));
            int rest = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 30)) + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(at + 32));
            if (System.Text.Encoding.UTF8.GetString(bytes, at + 46, nameLength) == entry)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 20), (uint)compressed);
                BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at + 24), (uint)length);
            }
            at += 46 + nameLength + rest;
        }
        File.WriteAllBytes(path, bytes);
    }
}
