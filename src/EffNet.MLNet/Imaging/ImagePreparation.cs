namespace EffNet.MLNet.Imaging;

/// <summary>
/// How a backbone's input square is made from an encoded image: the <see cref="Preprocessing"/> mode,
/// the square's side (<paramref name="Size"/>, the graph's input), the crop the graph takes from its
/// centre and the filter of the weights' evaluation transform.
/// </summary>
internal sealed record ImagePreparation(Preprocessing Mode, int Size, int Crop, ResampleFilter Filter)
{
    /// <summary>Decode the file at <paramref name="path"/> into <paramref name="destination"/> (3 × Size × Size floats, RGB 0…255).</summary>
    /// <returns>True when the image is truncated and was accepted.</returns>
    /// <exception cref="BadImageException">The file is missing, not an image, damaged, too large, or truncated and not accepted.</exception>
    public bool Decode(string path, Span<float> destination, bool acceptTruncated, long maxPixels = ImageCheck.DefaultMaxPixels)
    {
        if (Mode == Preprocessing.Fast) return FastImageDecoder.Decode(path, Size, destination, maxPixels, acceptTruncated);
        CheckDestination(destination);
        using var image = OpenedImage.Open(path, maxPixels);
        return TorchvisionImageDecoder.Decode(image, path, Size, Crop, Filter, destination, acceptTruncated);
    }

    /// <summary>Decode the encoded image in <paramref name="image"/>; <paramref name="name"/> names it in errors.</summary>
    public bool Decode(Stream image, string name, Span<float> destination, bool acceptTruncated, long maxPixels = ImageCheck.DefaultMaxPixels)
    {
        if (Mode == Preprocessing.Fast) return FastImageDecoder.Decode(image, name, Size, destination, acceptTruncated, maxPixels);
        ArgumentNullException.ThrowIfNull(image);
        CheckDestination(destination);
        using var encoded = OpenedImage.Open(image, name, maxPixels);
        return TorchvisionImageDecoder.Decode(encoded, name, Size, Crop, Filter, destination, acceptTruncated);
    }

    /// <summary>
    /// For <see cref="Preprocessing.TorchvisionExact"/>, the input square made from <paramref name="image"/> as an image
    /// (which a saved model's <c>ResizeImages</c> then passes through unchanged); null for <see cref="Preprocessing.Fast"/>.
    /// </summary>
    public Microsoft.ML.Data.MLImage? ToSquareImage(Microsoft.ML.Data.MLImage image) =>
        Mode == Preprocessing.Fast ? null : TorchvisionImageDecoder.ToSquareImage(image, Size, Crop, Filter);

    /// <summary>The same square made from a full-size decode (null for <see cref="Preprocessing.Fast"/>).</summary>
    public Microsoft.ML.Data.MLImage? ToSquareImage(SkiaSharp.SKBitmap decoded) =>
        Mode == Preprocessing.Fast ? null : TorchvisionImageDecoder.ToSquareImage(decoded, Size, Crop, Filter);

    private void CheckDestination(Span<float> destination)
    {
        if (destination.Length < 3 * Size * Size) throw new ArgumentException("The destination is smaller than one image.", nameof(destination));
    }
}
