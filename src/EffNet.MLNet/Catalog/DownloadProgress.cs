namespace EffNet.MLNet.Catalog;

/// <summary>Bytes of a download so far, and the total when the server said it.</summary>
public readonly record struct DownloadProgress(string FileName, long Bytes, long? TotalBytes);
