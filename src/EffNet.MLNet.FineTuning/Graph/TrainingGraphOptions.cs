namespace EffNet.MLNet.FineTuning.Graph;

/// <summary>What a <see cref="TrainingGraphBuilder"/> graph computes besides the network itself.</summary>
internal sealed record TrainingGraphOptions
{
    /// <summary>Label smoothing ε of the cross-entropy, in [0, 1).</summary>
    public double LabelSmoothing { get; init; }

    /// <summary>Emit the backward pass; without it the graph stops at the loss (evaluation).</summary>
    public bool Gradients { get; init; } = true;

    /// <summary>
    /// Batch-norm of the trainable layers normalises by the batch's statistics (PyTorch's training
    /// mode) and outputs them; otherwise by the running statistics, fed as inputs.
    /// </summary>
    public bool TrainBatchNorm { get; init; }

    /// <summary>Stochastic depth: block i of n drops its residual branch with probability rate·i/n (torchvision's rule).</summary>
    public double DropPathRate { get; init; }

    /// <summary>
    /// Dropout before the classifier (torchvision's <c>classifier[0]</c>): each image's pooled features times a mask of
    /// 0 or 1/(1 − p) per feature, fed from outside (<see cref="TrainingGraph.Dropout"/>). 0 emits no mask input.
    /// </summary>
    public double DropoutRate { get; init; }

    /// <summary>Per-class weights of the cross-entropy (PyTorch's <c>weight</c>), or null for none.</summary>
    public IReadOnlyList<float>? ClassWeights { get; init; }
}
