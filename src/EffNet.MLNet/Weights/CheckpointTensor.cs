namespace EffNet.MLNet.Weights;

/// <summary>A named tensor from a checkpoint, converted to float32 and laid out row-major.</summary>
/// <param name="Name">The key in the checkpoint.</param>
/// <param name="Shape">Dimensions, outermost first; empty for a scalar.</param>
/// <param name="Data">Values in row-major order.</param>
public sealed record CheckpointTensor(string Name, int[] Shape, float[] Data)
{
    /// <summary>Shape as PyTorch prints it, e.g. <c>[32, 3, 3, 3]</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>Format any shape the way <see cref="ShapeText"/> does.</summary>
    public static string FormatShape(IReadOnlyList<int> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Elements implied by a shape.</summary>
    /// <exception cref="OverflowException">The count does not fit in 64 bits.</exception>
    public static long ElementCount(IReadOnlyList<int> shape) => shape.Aggregate(1L, (a, d) => checked(a * d));
}
