namespace EffNet.MLNet;

/// <summary>
/// What the int8 check measured: int8 against float32 features (cosine similarity) on calibration images
/// held out from the activation ranges, the blocks it kept in float, or that it fell back to float32.
/// <c>model.json</c> records it as <c>backbone.int8Check</c>.
/// </summary>
public sealed record Int8Fidelity
{
    /// <summary>The target's median cosine.</summary>
    public double TargetMedianCosine { get; init; }

    /// <summary>The target's 5th-percentile cosine.</summary>
    public double TargetFifthPercentileCosine { get; init; }

    /// <summary>The budget: blocks that could be kept in float.</summary>
    public int MaxFloatLayers { get; init; }

    /// <summary>How the images were split and the blocks chosen.</summary>
    public string Method { get; init; } = "";

    /// <summary>Images the activation ranges were measured on.</summary>
    public int CalibratedOn { get; init; }

    /// <summary>Images held out from calibration and scored (paths).</summary>
    public IReadOnlyList<string> HeldOutImages { get; init; } = [];

    /// <summary>Median cosine with every block quantized.</summary>
    public double AllInt8MedianCosine { get; init; }

    /// <summary>5th-percentile cosine with every block quantized.</summary>
    public double AllInt8FifthPercentileCosine { get; init; }

    /// <summary>
    /// Median cosine of the int8 graph in use; after a fall-back, of the best int8 graph tried
    /// (<see cref="MaxFloatLayers"/> blocks in float).
    /// </summary>
    public double MedianCosine { get; init; }

    /// <summary>5th-percentile cosine, as <see cref="MedianCosine"/>.</summary>
    public double FifthPercentileCosine { get; init; }

    /// <summary>Lowest cosine, as <see cref="MedianCosine"/>.</summary>
    public double WorstCosine { get; init; }

    /// <summary>The blocks kept in float (e.g. <c>block6a</c>, <c>top</c>), most costly first; empty after a fall-back.</summary>
    public IReadOnlyList<string> FloatLayers { get; init; } = [];

    /// <summary>Whether the target was missed within the budget, so the backbone runs in float32.</summary>
    public bool FellBackToFloat32 { get; init; }

    /// <summary>After a fall-back, one line naming the measured figures; otherwise null.</summary>
    public string? Warning { get; init; }
}
