using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>
/// The input rows plus a feature column. A look-ahead cursor over the preprocessed view reads
/// a batch of pixel vectors and runs them through ONNX Runtime at once; the main cursor walks
/// the input in step and serves every other column untouched.
/// </summary>
internal sealed class FeaturizedDataView : IDataView
{
    private readonly IDataView _input;
    private readonly IDataView _preprocessed;
    private readonly string _pixelsColumn;
    private readonly FeatureSession _session;
    private readonly int _batchSize;
    private readonly int _featureIndex;

    public FeaturizedDataView(IDataView input, IDataView preprocessed, string pixelsColumn, DataViewSchema schema, string outputColumn, FeatureSession session, int batchSize)
    {
        _input = input;
        _preprocessed = preprocessed;
        _pixelsColumn = pixelsColumn;
        _session = session;
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
        DataViewRowCursor? ahead = null;
        if (wantFeatures)
            ahead = _preprocessed.GetRowCursor([_preprocessed.Schema[_pixelsColumn]]);
        return new Cursor(this, main, ahead, needed.Select(c => c.Index).ToHashSet());
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    // Output columns other than the features are the input's, by name (the output schema keeps their order).
    private DataViewSchema.Column InputColumn(DataViewSchema.Column outputColumn) => _input.Schema[outputColumn.Name];

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly FeaturizedDataView _view;
        private readonly DataViewRowCursor _main;
        private readonly DataViewRowCursor? _ahead;
        private readonly ValueGetter<VBuffer<float>>? _pixels;
        private readonly HashSet<int> _active;
        private readonly float[] _input;
        private readonly float[] _features;
        private readonly int _dim;
        private int _inBatch;
        private int _index = -1;
        private VBuffer<float> _pixelBuffer;

        public Cursor(FeaturizedDataView view, DataViewRowCursor main, DataViewRowCursor? ahead, HashSet<int> active)
        {
            _view = view;
            _main = main;
            _ahead = ahead;
            _active = active;
            _dim = view._session.FeatureDimension;
            _input = ahead is null ? [] : new float[view._batchSize * view._session.ImageSize];
            _features = ahead is null ? [] : new float[view._batchSize * _dim];
            _pixels = ahead?.GetGetter<VBuffer<float>>(ahead.Schema[view._pixelsColumn]);
        }

        public override DataViewSchema Schema => _view.Schema;

        public override long Position => _main.Position;

        public override long Batch => _main.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active.Contains(column.Index);

        public override ValueGetter<DataViewRowId> GetIdGetter() => _main.GetIdGetter();

        public override bool MoveNext()
        {
            if (!_main.MoveNext()) return false;
            if (_ahead is not null && ++_index >= _inBatch) FillBatch();
            return true;
        }

        private void FillBatch()
        {
            var size = _view._session.ImageSize;
            _inBatch = 0;
            _index = 0;
            while (_inBatch < _view._batchSize && _ahead!.MoveNext())
            {
                _pixels!(ref _pixelBuffer);
                if (_pixelBuffer.Length != size)
                    throw new InvalidOperationException($"Expected {size} pixel values per image, got {_pixelBuffer.Length}.");
                _pixelBuffer.CopyTo(_input.AsSpan(_inBatch * size, size));
                _inBatch++;
            }
            if (_inBatch == 0) throw new InvalidOperationException("The image rows ended before the other columns did.");
            _view._session.Run(_input.AsMemory(0, _inBatch * size), _inBatch, _features.AsMemory(0, _inBatch * _dim));
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index != _view._featureIndex)
                return _main.GetGetter<TValue>(_view.InputColumn(column));
            if (_ahead is null) throw new InvalidOperationException($"Column '{column.Name}' was not requested from the cursor.");
            ValueGetter<VBuffer<float>> getter = (ref VBuffer<float> value) =>
            {
                var editor = VBufferEditor.Create(ref value, _dim);
                _features.AsSpan(_index * _dim, _dim).CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)getter;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _main.Dispose();
                _ahead?.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
