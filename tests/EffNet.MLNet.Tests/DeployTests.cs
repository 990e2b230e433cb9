using System.Text.RegularExpressions;
using EffNet.MLNet.Cli.Shards;
using YamlDotNet.RepresentationModel;

namespace EffNet.MLNet.Tests;

/// <summary>
/// deploy/: the Kubernetes Indexed Job and the Slurm array script parse, agree with themselves, and their
/// exact effnet command lines run here as local processes, one per shard, merging to every image once.
/// The only substitutions are those a cluster makes: the container's mount paths become local folders,
/// and the weights file on the volume is a seeded random B0 checkpoint written by the test. The
/// Dockerfile is checked as text (no container builder runs here).
/// </summary>
public class DeployTests
{
    private static string Deploy(params string[] parts) => Path.Combine([RepoPaths.Root, "deploy", .. parts]);

    private static string RandomB0Weights(string folder)
    {
        var architecture = Architecture.EfficientNetArchitecture.For(Architecture.EfficientNetVariant.Parse("b0"));
        var parameters = EffNet.MLNet.FineTuning.NetworkParameters.FromFolded(architecture, Onnx.RandomWeights.Create(architecture, 3), 1000, 3);
        var path = Path.Combine(folder, "efficientnet_b0.safetensors");
        EffNet.MLNet.FineTuning.StateDictWriter.WriteTorchvision(path, parameters);
        return path;
    }

    private static string SmallDataset(string folder)
    {
        foreach (var label in new[] { "checkers", "discs", "stripes" })
        {
            Directory.CreateDirectory(Path.Combine(folder, label));
            foreach (var file in Directory.GetFiles(Path.Combine(SampleData.Folder, label)).Order(StringComparer.Ordinal).Take(4))
                File.Copy(file, Path.Combine(folder, label, Path.GetFileName(file)));
        }
        return folder;
    }

    private static void AssertEveryImageOnce(string data, string features)
    {
        var set = ShardSet.Load(features);
        Assert.Equal(Training.ImageDataset.Load(data).Select(i => ShardSpec.RelativeKey(data, i.ImagePath)).Order(StringComparer.Ordinal),
            set.Rows.Select(r => r.Path));
    }

    private static YamlNode Child(YamlNode node, string key) => ((YamlMappingNode)node).Children[new YamlScalarNode(key)];

    private static string Text(YamlNode node, string key) => ((YamlScalarNode)Child(node, key)).Value!;

    // Mutation: the manifest's --shards says 3 while completions is 4 -> fails.
    // Mutation (not run): the cache volume becomes a persistentVolumeClaim (a network share) -> should fail.
    [Fact]
    [Trait("Category", "Slow")]   // four B0 processes and a merge: ~40-60 s on 2 busy cores
    public void The_kubernetes_indexed_job_runs_as_written_one_process_per_index()
    {
        var yaml = new YamlStream();
        using (var reader = File.OpenText(Deploy("kubernetes", "featurize-job.yaml"))) yaml.Load(reader);
        var job = yaml.Documents.Single().RootNode;
        Assert.Equal("batch/v1", Text(job, "apiVersion"));
        Assert.Equal("Job", Text(job, "kind"));
        var spec = Child(job, "spec");
        Assert.Equal("Indexed", Text(spec, "completionMode"));
        var completions = int.Parse(Text(spec, "completions"), System.Globalization.CultureInfo.InvariantCulture);
        var podSpec = Child(Child(spec, "template"), "spec");
        Assert.Equal("Never", Text(podSpec, "restartPolicy"));
        var container = ((YamlSequenceNode)Child(podSpec, "containers")).Children.Single();
        var args = ((YamlSequenceNode)Child(container, "args")).Children.Select(a => ((YamlScalarNode)a).Value!).ToList();
        Assert.Equal(completions.ToString(System.Globalization.CultureInfo.InvariantCulture), args[args.IndexOf("--shards") + 1]);
        var env = ((YamlSequenceNode)Child(container, "env")).Children.ToDictionary(e => Text(e, "name"), e => Text(e, "value"));
        var mounts = ((YamlSequenceNode)Child(container, "volumeMounts")).Children.ToDictionary(m => Text(m, "name"), m => Text(m, "mountPath"));
        Assert.Equal(mounts["cache"], env["EFFNET_HOME"]);
        var volumes = ((YamlSequenceNode)Child(podSpec, "volumes")).Children.ToDictionary(v => Text(v, "name"));
        // SQLite's feature cache must be on the node's own disk.
        Assert.True(((YamlMappingNode)volumes["cache"]).Children.ContainsKey(new YamlScalarNode("hostPath")) ||
                    ((YamlMappingNode)volumes["cache"]).Children.ContainsKey(new YamlScalarNode("emptyDir")));

        using var dir = new TempDir();
        var local = new Dictionary<string, string>
        {
            [mounts["images"]] = SmallDataset(dir.File("images")),
            [mounts["features"]] = dir.File("features"),
        };
        var weights = args[args.IndexOf("--weights") + 1];
        Assert.StartsWith(mounts["weights"] + "/", weights);
        local[weights] = RandomB0Weights(Directory.CreateDirectory(dir.File("weights")).FullName);
        var command = args.Select(a => local.TryGetValue(a, out var path) ? path : a).ToArray();
        var dll = Path.Combine(AppContext.BaseDirectory, "effnet.dll");
        var pods = Enumerable.Range(0, completions).Select(k => Task.Run(() => ProcessRunner.Run("dotnet", [dll, .. command],
            new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = k.ToString(System.Globalization.CultureInfo.InvariantCulture), ["EFFNET_HOME"] = dir.File($"node{k}-cache") }))).ToArray();
        Task.WaitAll(pods);
        Assert.All(pods, p => Assert.True(p.Result.Code == 0, p.Result.Err));
        AssertEveryImageOnce(local[mounts["images"]], local[mounts["features"]]);
    }

    // Mutation (not run): the script's effnet line says --shards 4 instead of "$SLURM_ARRAY_TASK_COUNT" while --array is 0-2
    // (a test array of three tasks then leaves shard 3 of 4 unwritten) -> should fail.
    [Fact]
    [Trait("Category", "Slow")]   // three B0 processes through bash and a merge: ~30-50 s on 2 busy cores
    public void The_slurm_array_script_parses_and_runs_as_written_one_task_per_array_index()
    {
        var script = Deploy("slurm", "featurize-array.sh");
        var syntax = ProcessRunner.Run("bash", ["-n", script]);
        Assert.True(syntax.Code == 0, syntax.Err);
        var text = File.ReadAllText(script);
        var array = Regex.Match(text, @"^#SBATCH --array=0-(\d+)$", RegexOptions.Multiline);
        Assert.True(array.Success, "the script declares its array as #SBATCH --array=0-(N-1)");
        Assert.Equal(3, int.Parse(array.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

        // A test array of three tasks (sbatch --array=0-2 overrides the script's): the script must not assume four.
        using var dir = new TempDir();
        var data = SmallDataset(dir.File("images"));
        var features = dir.File("features");
        var weights = RandomB0Weights(Directory.CreateDirectory(dir.File("weights")).FullName);
        var bin = Directory.CreateDirectory(dir.File("bin")).FullName;
        var effnet = Path.Combine(bin, "effnet");
        File.WriteAllText(effnet, $"#!/bin/sh\nexec dotnet '{Path.Combine(AppContext.BaseDirectory, "effnet.dll")}' \"$@\"\n");
        File.SetUnixFileMode(effnet, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        const int tasks = 3;
        var runs = Enumerable.Range(0, tasks).Select(k => Task.Run(() => ProcessRunner.Run("bash", [script], new Dictionary<string, string>
        {
            ["SLURM_ARRAY_TASK_ID"] = k.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SLURM_ARRAY_TASK_MIN"] = "0",
            ["SLURM_ARRAY_TASK_COUNT"] = tasks.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["DATA"] = data,
            ["FEATURES"] = features,
            ["WEIGHTS"] = weights,
            ["EFFNET_HOME"] = dir.File($"node{k}-cache"),
            ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH"),
        }))).ToArray();
        Task.WaitAll(runs);
        Assert.All(runs, r => Assert.True(r.Result.Code == 0, r.Result.Err));
        Assert.Equal(tasks, Directory.GetFiles(features, "part-*.parquet").Length);
        AssertEveryImageOnce(data, features);
    }

    // Mutation: the Dockerfile's ENTRYPOINT runs /src/effnet.dll instead of /app/effnet.dll -> fails.
    [Fact]
    public void The_dockerfile_builds_from_the_sdk_and_downloads_nothing_when_it_runs()
    {
        var lines = File.ReadAllLines(Deploy("Dockerfile")).Where(l => !l.TrimStart().StartsWith('#') && l.Trim().Length > 0).ToList();
        var froms = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).ToList();
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/sdk:10.0", froms[0]);
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/runtime:10.0", froms[^1]);
        Assert.Contains(lines, l => l.Contains("dotnet publish src/EffNet.MLNet.Cli/EffNet.MLNet.Cli.csproj", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(RepoPaths.Root, "src", "EffNet.MLNet.Cli", "EffNet.MLNet.Cli.csproj")));
        Assert.Contains("ENTRYPOINT [\"dotnet\", \"/app/effnet.dll\"]", lines);
        Assert.Contains(lines, l => l.Contains("COPY --from=build /app /app", StringComparison.Ordinal));
        // After the build stage nothing fetches anything: no curl, wget, ADD of a URL or package install.
        var runtime = lines.SkipWhile(l => l != froms[^1]).ToList();
        Assert.DoesNotContain(runtime, l => Regex.IsMatch(l, @"curl|wget|apt-get|ADD\s+https?://|dotnet (restore|tool)"));
        Assert.Contains(runtime, l => l.Contains("EFFNET_HOME=/cache", StringComparison.Ordinal));
    }
}
