using System.Diagnostics;
using EffNet.MLNet.Imaging;

namespace EffNet.MLNet;

/// <summary>One cursor's featurization as log lines: every 256 images, each image given NaN features or accepted truncated, and the total.</summary>
internal sealed class FeaturizationProgress(FeaturizerContext context)
{
    private const int Every = 256;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _rows;
    private int _missing;
    private bool _finished;

    public void Row()
    {
        if (++_rows % Every == 0) context.Info($"Featurized {_rows:N0} images ({Rate()})");
    }

    public void Issue(ImageIssue issue)
    {
        if (issue.Accepted) context.Info($"Truncated image accepted: {issue.ImagePath}: {issue.Reason}");
        else
        {
            _missing++;
            context.Warning($"Bad image skipped (NaN features): {issue.ImagePath}: {issue.Reason}");
        }
    }

    public void Finished()
    {
        if (_finished) return;
        _finished = true;
        context.Info($"Featurized {_rows:N0} images in {_clock.Elapsed.TotalSeconds:0.0} s ({Rate()})" + (_missing > 0 ? $"; {_missing} bad images given NaN features" : ""));
    }

    private string Rate() => $"{_rows / Math.Max(_clock.Elapsed.TotalSeconds, 1e-3):0.#} images/s";
}
