using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;

namespace EffNet.MLNet.FineTuning.Graph;

/// <summary>
/// A <see cref="TrainingGraph"/> loaded in ONNX Runtime. Each <see cref="Run"/> feeds the current
/// parameter arrays (pinned, not copied) and writes loss, logits and gradients into arrays owned here.
/// </summary>
internal sealed class TrainingSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly TrainingGraph _graph;
    private readonly NetworkParameters _parameters;

    public TrainingSession(TrainingGraph graph, NetworkParameters parameters, int threads)
    {
        _graph = graph;
        _parameters = parameters;
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = Math.Max(1, threads),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        _session = new InferenceSession(graph.Model.ToByteArray(), options);
        Gradients = graph.HasGradients
            ? graph.Trainable.ToDictionary(n => n, n => new float[parameters.Values[n].Length], StringComparer.Ordinal)
            : new Dictionary<string, float[]>(StringComparer.Ordinal);
        BatchStatistics = graph.BatchStatistics
            .SelectMany(l => new[] { (l.MeanOutput, l.Channels), (l.VarianceOutput, l.Channels) })
            .ToDictionary(x => x.Item1, x => new float[x.Channels], StringComparer.Ordinal);
    }

    /// <summary>The last run's gradient of each trainable tensor, by name.</summary>
    public IReadOnlyDictionary<string, float[]> Gradients { get; }

    /// <summary>The last run's batch mean and biased variance of each training-mode batch-norm, by output name.</summary>
    public IReadOnlyDictionary<string, float[]> BatchStatistics { get; }

    /// <summary>
    /// One forward (and, for a gradient graph, backward) pass over <paramref name="batch"/> images.
    /// <paramref name="logits"/> and <paramref name="features"/> receive [batch, K] and [batch, D];
    /// <paramref name="dropPathMasks"/> holds a [batch] mask for each of the graph's drop-path inputs,
    /// <paramref name="dropoutMask"/> the [batch, D] mask of the classifier's dropout when the graph has one.
    /// </summary>
    public float Run(float[] pixels, long[] labels, int batch, float[] logits, float[]? features = null, IReadOnlyDictionary<string, float[]>? dropPathMasks = null, float[]? dropoutMask = null)
    {
        var r = _graph.Resolution;
        if (pixels.Length < (long)batch * 3 * r * r || labels.Length < batch || logits.Length < batch * _graph.Classes)
            throw new ArgumentException("The buffers are smaller than the batch.");
        var names = new List<string> { TrainingGraph.Pixels, TrainingGraph.Labels };
        var values = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, batch * 3 * r * r), [batch, 3, r, r]),
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, labels.AsMemory(0, batch), [batch]),
        };
        var outputNames = new List<string> { TrainingGraph.Loss, TrainingGraph.Logits, TrainingGraph.Features };
        var loss = new float[1];
        var outputs = new List<OrtValue>
        {
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, loss.AsMemory(), []),
            OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, logits.AsMemory(0, batch * _graph.Classes), [batch, _graph.Classes]),
        };
        var featureBuffer = features ?? new float[batch * _graph.FeatureDimension];
        outputs.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, featureBuffer.AsMemory(0, batch * _graph.FeatureDimension), [batch, _graph.FeatureDimension]));
        try
        {
            foreach (var name in _graph.Buffers)
            {
                names.Add(name);
                values.Add(OrtValue.CreateTensorValueFromMemory(_parameters.Values[name], _parameters.Shapes[name].Select(d => (long)d).ToArray()));
            }
            foreach (var input in _graph.DropPaths)
            {
                if (dropPathMasks is null || !dropPathMasks.TryGetValue(input.Name, out var mask) || mask.Length < batch)
                    throw new ArgumentException($"The graph drops paths; a mask of {batch} values for '{input.Name}' is needed.", nameof(dropPathMasks));
                names.Add(input.Name);
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, mask.AsMemory(0, batch), [batch, 1, 1, 1]));
            }
            if (_graph.Dropout is { } dropout)
            {
                if (dropoutMask is null || dropoutMask.Length < batch * dropout.Width)
                    throw new ArgumentException($"The graph has classifier dropout; a mask of {batch}×{dropout.Width} values is needed.", nameof(dropoutMask));
                names.Add(dropout.Name);
                values.Add(OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, dropoutMask.AsMemory(0, batch * dropout.Width), [batch, dropout.Width]));
            }
            foreach (var (name, buffer) in BatchStatistics)
            {
                outputNames.Add(name);
                outputs.Add(OrtValue.CreateTensorValueFromMemory(buffer, [buffer.Length]));
            }
            foreach (var name in _graph.Trainable)
            {
                var shape = _parameters.Shapes[name].Select(d => (long)d).ToArray();
                names.Add(name);
                values.Add(OrtValue.CreateTensorValueFromMemory(_parameters.Values[name], shape));
                if (!_graph.HasGradients) continue;
                outputNames.Add(TrainingGraph.GradientOf(name));
                outputs.Add(OrtValue.CreateTensorValueFromMemory(((Dictionary<string, float[]>)Gradients)[name], shape));
            }
            using var runOptions = new RunOptions();
            _session.Run(runOptions, names, values, outputNames, outputs);
            return loss[0];
        }
        finally
        {
            foreach (var v in values) v.Dispose();
            foreach (var v in outputs) v.Dispose();
        }
    }

    public void Dispose() => _session.Dispose();
}
