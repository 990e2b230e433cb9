using System.Buffers.Binary;

namespace EffNet.MLNet.Weights;

/// <summary>Element types that checkpoints store, and their conversion to float32.</summary>
internal enum ElementType { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool }

internal static class ElementTypes
{
    public static int Size(this ElementType t) => t switch
    {
        ElementType.Float64 or ElementType.Int64 => 8,
        ElementType.Float32 or ElementType.Int32 => 4,
        ElementType.Float16 or ElementType.BFloat16 or ElementType.Int16 => 2,
        _ => 1,
    };

    /// <summary>Read element <paramref name="index"/> of little-endian <paramref name="bytes"/> as float.</summary>
    public static float Read(this ElementType t, ReadOnlySpan<byte> bytes, long index)
    {
        var at = checked((int)(index * t.Size()));
        var b = bytes[at..];
        return t switch
        {
            ElementType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(b),
            ElementType.Float64 => (float)BinaryPrimitives.ReadDoubleLittleEndian(b),
            ElementType.Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(b),
            ElementType.BFloat16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
            ElementType.Int64 => BinaryPrimitives.ReadInt64LittleEndian(b),
            ElementType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(b),
            ElementType.Int16 => BinaryPrimitives.ReadInt16LittleEndian(b),
            ElementType.Int8 => (sbyte)b[0],
            ElementType.UInt8 => b[0],
            ElementType.Bool => b[0] != 0 ? 1f : 0f,
            _ => throw new ArgumentOutOfRangeException(nameof(t)),
        };
    }

    /// <summary>Convert a whole contiguous buffer.</summary>
    public static float[] ToFloats(this ElementType t, ReadOnlySpan<byte> bytes, long count)
    {
        var result = new float[count];
        if (t == ElementType.Float32 && BitConverter.IsLittleEndian)
        {
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes[..checked((int)(count * 4))]).CopyTo(result);
            return result;
        }
        for (long i = 0; i < count; i++) result[i] = t.Read(bytes, i);
        return result;
    }
}
