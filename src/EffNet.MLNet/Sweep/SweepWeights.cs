namespace EffNet.MLNet.Sweep;

/// <summary>Finds each variant's checkpoint in a sweep's weights folder.</summary>
internal static class SweepWeights
{
    private static readonly string[] Extensions = [".pth", ".safetensors"];

    /// <summary>
    /// The checkpoint of <paramref name="variant"/> in <paramref name="folder"/>: torchvision's published
    /// file name, else the one file whose name holds <c>efficientnet_bN</c> (timm's names, the Hugging Face cache's).
    /// </summary>
    /// <exception cref="FileNotFoundException">No such file, naming the folder and the names looked for.</exception>
    /// <exception cref="ArgumentException">Several files would do.</exception>
    public static string Find(string folder, string variant)
    {
        if (!Directory.Exists(folder)) throw new FileNotFoundException($"The weights folder '{folder}' does not exist.", folder);
        var published = Catalog.PretrainedCatalog.Find(variant);
        if (published is not null && File.Exists(Path.Combine(folder, published.FileName))) return Path.Combine(folder, published.FileName);
        var stem = "efficientnet_" + variant.ToLowerInvariant().Replace('-', '_');
        var matches = Directory.EnumerateFiles(folder)
            .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
            .Where(f => Path.GetFileName(f).ToLowerInvariant() is var name && (name.Contains(stem + "_") || name.Contains(stem + ".")))
            .Order(StringComparer.Ordinal).ToList();
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new FileNotFoundException(
                $"The weights folder '{folder}' has no checkpoint for {variant}: expected {(published is null ? "" : $"'{published.FileName}' (torchvision) or ")}a .pth or .safetensors file whose name contains '{stem}'. " +
                (published is null ? $"{variant} has no published weights; sweep it with " + OptionWording.SweepRandomWeightsRemedy + ", or leave it out." : "Place the file there, or leave the variant out."), folder),
            _ => throw new ArgumentException($"The weights folder '{folder}' has {matches.Count} checkpoints for {variant} ({string.Join(", ", matches.Select(Path.GetFileName))}); keep one."),
        };
    }
}
