namespace EffNet.MLNet.FineTuning.Data;

/// <summary>How much the training images are varied (<c>--augment</c>).</summary>
internal enum AugmentPreset
{
    /// <summary>None: each image is exactly the square the served model sees (the library's own preprocessing).</summary>
    None,

    /// <summary>Random-resized crop (scale 0.35–1, ratio 3/4–4/3) and mild colour jitter (brightness, contrast, saturation ±0.2).</summary>
    Light,

    /// <summary>Random-resized crop (scale 0.08–1), colour jitter ±0.4 and one TrivialAugment operation per image.</summary>
    Strong,
}
