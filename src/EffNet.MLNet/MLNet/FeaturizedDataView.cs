using EffNet.MLNet.Imaging;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>
/// The input rows plus a feature column. A look-ahead source computes features a batch at a time
/// (<see cref="IFeatureBatches"/>); the main cursor walks the input in step and serves every other
/// column untouched. A row whose image was bad throws <see cref="BadImageException"/> when the
/// cursor reaches it, or has NaN features (<see cref="BadImageHandling"/>); either way, and for an
/// accepted truncated image, the issue is reported first.
/// </summary>
internal sealed class FeaturizedDataView : IDataView
{
    private readonly IDataView _input;
    private readonly Func<IFeatureBatches> _batches;
    private readonly int _dimension;
    private readonly int _batchSize;
    private readonly int _featureIndex;
    private readonly BadImageHandling _onBadImage;
    private readonly Action<ImageIssue>? _report;
    private readonly FeaturizerContext? _context;

    public FeaturizedDataView(IDataView input, Func<IFeatureBatches> batches, DataViewSchema schema, string outputColumn, int dimension, int batchSize,
        BadImageHandling onBadImage = BadImageHandling.Throw, Action<ImageIssue>? report = null, FeaturizerContext? context = null)
    {
        _context = context;
        _onBadImage = onBadImage;
        _report = report;
        _input = input;
        _batches = batches;
        _dimension = dimension;
        _batchSize = batchSize;
        Schema = schema;
        _featureIndex = schema[outputColumn].Index;
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _input.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToList();
        var wantFeatures = needed.Any(c => c.Index == _featureIndex);
        var inputColumns = needed.Where(c => c.Index != _featureIndex).Select(c => InputColumn(c)).ToList();
        var main = _input.GetRowCursor(inputColumns);
        return new Cursor(this, main, wantFeatures ? _batches() : null, needed.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    // The output schema is the input's columns at the same indices (hidden ones included: a column
    // replaced upstream, such as a text Label mapped to a key Label, stays as a hidden twin), then
    // the features. Matching by name would hand the visible twin to a reader of the hidden one.
    private DataViewSchema.Column InputColumn(DataViewSchema.Column outputColumn) => _input.Schema[outputColumn.Index];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly FeaturizedDataView _view;
        private readonly DataViewRowCursor _main;
        private readonly IFeatureBatches? _batches;
        private readonly HashSet<int> _active;
        private readonly float[] _features;
        private readonly int _dim;
        private int _inBatch;
        private int _index = -1;
        private ImageIssue?[] _issues = [];
        private bool _missing;
        private readonly FeaturizationProgress? _progress;

        public Cursor(FeaturizedDataView view, DataViewRowCursor main, IFeatureBatches? batches, HashSet<int> active)
        {
            _view = view;
            _main = main;
            _batches = batches;
            _active = active;
            _dim = view._dimension;
            _features = batches is null ? [] : new float[view._batchSize * _dim];
            _progress = batches is not null && view._context is { } context ? new FeaturizationProgress(context) : null;
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _main.Position;

        public override long Batch => _main.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() => _main.GetIdGetter();

        public override bool MoveNext()
        {
            _view._context?.ThrowIfCancelled();
            if (!_main.MoveNext())
            {
                _progress?.Finished();
                return false;
            }
            if (_batches is null) return true;
            _progress?.Row();
            if (++_index >= _inBatch)
            {
                if (!_batches.Next(_features, out _inBatch, out _issues)) throw new InvalidOperationException("The image rows ended before the other columns did.");
                _index = 0;
            }
            _missing = false;
            if (_index < _issues.Length && _issues[_index] is { } issue)
            {
                if (!issue.Accepted && _view._onBadImage == BadImageHandling.Throw) throw new BadImageException(issue.ImagePath, issue.Reason);
                _view._report?.Invoke(issue);
                _progress?.Issue(issue);
                _missing = !issue.Accepted;
            }
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != _view._featureIndex)
                return _main.GetGetter<TValue>(_view.InputColumn(column));
            if (_batches is null) throw new InvalidOperationException($"Column '{column.Name}' was not requested from the cursor.");
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                var editor = VBufferEditor.Create(ref value, _dim);
                if (_missing) editor.Values.Fill(float.NaN);
                else _features.AsSpan(_index * _dim, _dim).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _main.Dispose();
                _batches?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
