using System.Collections.Concurrent;
using EffNet.MLNet.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet;

/// <summary>
/// The input rows plus an image column loaded from the path column the way ML.NET's LoadImages
/// loads it (<see cref="MLImage.CreateFromFile"/>), but with every image checked first: LoadImages
/// fails on a damaged image without naming it, and fills a truncated one silently. A bad image
/// becomes a 1×1 placeholder (its row's features are discarded) and its issue is recorded by row
/// position for the consumer. ML.NET may read this view on a worker thread, ahead of the consumer,
/// hence the concurrent map.
/// </summary>
internal sealed class CheckedImageView : IDataView
{
    private readonly IDataView _input;
    private readonly int _pathIndex;
    private readonly string? _imageFolder;
    private readonly bool _acceptTruncated;
    private readonly DecodedContent? _content;

    public CheckedImageView(IDataView input, string pathColumn, string imageColumn, string? imageFolder, bool acceptTruncated, DecodedContent? content = null)
    {
        _content = content;
        _input = input;
        _pathIndex = input.Schema[pathColumn].Index;
        _imageFolder = imageFolder;
        _acceptTruncated = acceptTruncated;
        var builder = new DataViewSchema.Builder();
        builder.AddColumns(input.Schema);
        builder.AddColumn(imageColumn, new ImageDataViewType());
        Schema = builder.ToSchema();
    }

    /// <summary>Issues found so far, by row position; the consumer takes each out as it reaches the row.</summary>
    public ConcurrentDictionary<long, ImageIssue> Issues { get; } = new();

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    private int ImageIndex => Schema.Count - 1;

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.Select(c => c.Index).ToHashSet();
        var inner = needed.Where(i => i < ImageIndex).ToHashSet();
        if (needed.Contains(ImageIndex)) inner.Add(_pathIndex);
        return new Cursor(this, _input.GetRowCursor(inner.Select(i => _input.Schema[i])), needed);
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private ImageIssue? Check(string path) => ImageCheck.Inspect(path) switch
    {
        null => null,
        { Truncated: true } when _acceptTruncated => new ImageIssue(path, DecodePipeline.AcceptedTruncation, Accepted: true),
        var problem => new ImageIssue(path, problem.Reason, Accepted: false),
    };

    private sealed class Cursor(CheckedImageView view, DataViewRowCursor inner, HashSet<int> active) : DataViewRowCursor
    {
        public override DataViewSchema Schema => view.Schema;

        public override long Position => inner.Position;

        public override long Batch => inner.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() => inner.GetIdGetter();

        public override bool MoveNext() => inner.MoveNext();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != view.ImageIndex) return inner.GetGetter<TValue>(view._input.Schema[column.Index]);
            var path = inner.GetGetter<ReadOnlyMemory<char>>(view._input.Schema[view._pathIndex]);
            ReadOnlyMemory<char> text = default;
            ValueGetter<MLImage> getter = (ref MLImage value) =>
            {
                path(ref text);
                var file = PathBatches.Resolve(text.ToString(), view._imageFolder);
                var issue = view.Check(file);
                if (issue is not null) view.Issues[Position] = issue;
                value?.Dispose();
                value = issue is { Accepted: false }
                    ? MLImage.CreateFromPixels(1, 1, MLPixelFormat.Rgba32, new byte[4])
                    : view._content is { } content
                        ? MLImage.CreateFromStream(new MemoryStream(content.Read(Position, file), writable: false))
                        : MLImage.CreateFromFile(file);
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
