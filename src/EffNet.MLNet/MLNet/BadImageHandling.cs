namespace EffNet.MLNet;

/// <summary>What the featurizer's <c>Transform</c> does with a row whose image cannot be used.</summary>
public enum BadImageHandling
{
    /// <summary>
    /// The cursor throws <see cref="Imaging.BadImageException"/>, naming the image and the reason,
    /// when it reaches the row: ML.NET's behaviour for bad input, with the file named. The default.
    /// </summary>
    Throw,

    /// <summary>
    /// The row stays, with every feature NaN (ML.NET's missing value for floats); drop such rows with
    /// <c>mlContext.Data.FilterRowsByMissingValues(data, featureColumnName)</c>. Each one is passed to
    /// <see cref="EfficientNetFeaturizerOptions.OnImageIssue"/>.
    /// </summary>
    MissingFeatures,
}
