using System.Text;

namespace EffNet.MLNet.Onnx;

/// <summary>
/// Finds tensors of an ONNX model that keep their data in another file (<c>data_location:
/// EXTERNAL</c> or <c>external_data</c> entries), reading the protobuf as a stream: no tensor
/// data is kept, so a model of any size is scanned in constant memory. ONNX Runtime resolves
/// such a file against the folder the model was loaded from, which for a model inside an ML.NET
/// .zip is the temp folder: a crafted model would read whatever another program left there.
/// </summary>
internal static class OnnxExternalData
{
    private enum Message { Model, Graph, Node, Attribute, Tensor, SparseTensor, Function, TrainingInfo }

    private const int MaxDepth = 64;

    /// <summary>The name of the first tensor whose data lies outside the model, or null when every tensor's data is inside.</summary>
    /// <exception cref="InvalidDataException">The stream is not a well-formed protobuf message.</exception>
    public static string? FirstExternalTensor(Stream onnx, long length) => new Scanner(onnx).Scan(Message.Model, length, 0);

    // Which fields of which message hold the messages that can hold tensors (onnx.proto3 field numbers).
    private static Message? Child(Message parent, int field) => (parent, field) switch
    {
        (Message.Model, 7) => Message.Graph,
        (Message.Model, 20) => Message.TrainingInfo,
        (Message.Model, 25) => Message.Function,
        (Message.TrainingInfo, 1 or 2) => Message.Graph,
        (Message.Function, 7) => Message.Node,
        (Message.Graph, 1) => Message.Node,
        (Message.Graph, 5) => Message.Tensor,
        (Message.Graph, 15) => Message.SparseTensor,
        (Message.Node, 5) => Message.Attribute,
        (Message.Attribute, 5 or 10) => Message.Tensor,
        (Message.Attribute, 6 or 11) => Message.Graph,
        (Message.Attribute, 22 or 23) => Message.SparseTensor,
        (Message.SparseTensor, 1 or 2) => Message.Tensor,
        _ => null,
    };

    private sealed class Scanner(Stream stream)
    {
        private readonly byte[] _scratch = new byte[1 << 16];
        private long _position;

        public string? Scan(Message kind, long end, int depth)
        {
            if (depth > MaxDepth) throw new InvalidDataException($"the model nests messages more than {MaxDepth} deep");
            string? tensorName = null;
            string? external = null;
            while (_position < end)
            {
                var tag = ReadVarint();
                var field = (int)(tag >> 3);
                switch ((int)(tag & 7))
                {
                    case 0:
                        var value = ReadVarint();
                        if (kind == Message.Tensor && field == 14 && value == 1) external = "";
                        break;
                    case 1: Skip(8); break;
                    case 5: Skip(4); break;
                    case 2:
                        var length = (long)ReadVarint();
                        if (length < 0 || length > end - _position) throw new InvalidDataException("a field runs past the end of its message");
                        if (kind == Message.Tensor && field == 8 && length <= 4096) tensorName = ReadString((int)length);
                        else if (kind == Message.Tensor && field == 13) { external = ""; Skip(length); }
                        else if (Child(kind, field) is { } child)
                        {
                            if (Scan(child, _position + length, depth + 1) is { } found) return found;
                        }
                        else Skip(length);
                        break;
                    default:
                        throw new InvalidDataException($"wire type {tag & 7} is not used by ONNX");
                }
            }
            if (_position != end) throw new InvalidDataException("a message runs past its declared length");
            return external is null ? null : tensorName ?? "(unnamed)";
        }

        private ulong ReadVarint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0) throw new InvalidDataException("the model ends in the middle of a field");
                _position++;
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return result;
            }
            throw new InvalidDataException("a varint is longer than 10 bytes");
        }

        private string ReadString(int length)
        {
            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            _position += length;
            return Encoding.UTF8.GetString(bytes);
        }

        private void Skip(long bytes)
        {
            if (stream.CanSeek)
            {
                if (bytes > stream.Length - stream.Position) throw new InvalidDataException("the model ends in the middle of a field");
                stream.Seek(bytes, SeekOrigin.Current);
                _position += bytes;
                return;
            }
            while (bytes > 0)
            {
                var n = stream.Read(_scratch, 0, (int)Math.Min(bytes, _scratch.Length));
                if (n == 0) throw new InvalidDataException("the model ends in the middle of a field");
                bytes -= n;
                _position += n;
            }
        }
    }
}
