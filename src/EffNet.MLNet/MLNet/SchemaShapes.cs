using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace EffNet.MLNet;

/// <summary>
/// <see cref="SchemaShape.Column"/> values made directly. ML.NET gives estimators outside it no public
/// constructor (its own use an internal one), and the only public alternative — asking a stock chain —
/// means building ApplyOnnxModel, which opens an ONNX Runtime session. A test holds this to the shape
/// the stock chain reports; should a later ML.NET change the constructor, callers fall back to the chain.
/// </summary>
internal static class SchemaShapes
{
    private static readonly ConstructorInfo? ColumnConstructor = typeof(SchemaShape.Column).GetConstructor(
        BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, null,
        [typeof(string), typeof(SchemaShape.Column.VectorKind), typeof(DataViewType), typeof(bool), typeof(SchemaShape)], null);

    /// <summary>A column holding a known-size vector of <paramref name="itemType"/>, without annotations; null where ML.NET offers no way.</summary>
    public static SchemaShape.Column? KnownSizeVector(string name, DataViewType itemType) =>
        ColumnConstructor?.Invoke([name, SchemaShape.Column.VectorKind.Vector, itemType, false, null]) as SchemaShape.Column?;
}
