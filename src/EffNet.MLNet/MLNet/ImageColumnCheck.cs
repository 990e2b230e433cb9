using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Transforms.Image;

namespace EffNet.MLNet;

/// <summary>
/// The featurizer's input column check, worded and typed as ML.NET's own schema checks are
/// (<c>Contracts.ExceptSchemaMismatch</c>): an <see cref="ArgumentOutOfRangeException"/> naming the
/// column, what was expected and what was found. ML.NET's pipelines and test helpers treat that type
/// (or <see cref="InvalidOperationException"/>) as "this input does not fit"; a plain
/// <see cref="ArgumentException"/> reads as a bug in the caller's arguments.
/// </summary>
internal static class ImageColumnCheck
{
    private const string Expected = "an image path (String) or an MLImage";

    /// <summary>The item type of <paramref name="column"/> in <paramref name="schema"/>, or the schema-mismatch exception.</summary>
    public static DataViewType ItemType(DataViewSchema schema, string column, string paramName)
    {
        var found = schema.GetColumnOrNull(column) ?? throw Missing(column, schema.Select(c => c.Name), paramName);
        return Check(column, found.Type, isScalar: found.Type is not VectorDataViewType, paramName);
    }

    /// <summary>The same check on a schema shape (what <c>GetOutputSchema</c> receives).</summary>
    public static DataViewType ItemType(SchemaShape shape, string column, string paramName)
    {
        var found = shape.FirstOrDefault(c => c.Name == column);
        if (found.Name is null) throw Missing(column, shape.Select(c => c.Name), paramName);
        return Check(column, found.ItemType, isScalar: found.Kind == SchemaShape.Column.VectorKind.Scalar, paramName);
    }

    private static ArgumentOutOfRangeException Missing(string column, IEnumerable<string> names, string paramName) =>
        new(paramName, $"Could not find input column '{column}' (the input has: {string.Join(", ", names)}).");

    private static DataViewType Check(string column, DataViewType type, bool isScalar, string paramName)
    {
        var item = type is VectorDataViewType vector ? vector.ItemType : type;
        if (isScalar && item is TextDataViewType or ImageDataViewType) return item;
        var got = isScalar ? item.ToString() : $"Vector<{item}>";
        var hint = !isScalar && item == NumberDataViewType.Byte
            ? " Encoded image bytes cannot be decoded by ML.NET's saved image transforms; make an MLImage column instead " +
              "(MLImage.CreateFromStream in your input class, or LoadImages from paths)."
            : "";
        throw new ArgumentOutOfRangeException(paramName, $"Schema mismatch for input column '{column}': expected {Expected}, got {got}.{hint}");
    }
}
