using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace EffNet.MLNet.Weights;

/// <summary>
/// A pickle reader that understands only what a PyTorch state_dict needs: containers,
/// numbers, strings, and an allow-list of globals (OrderedDict, the tensor rebuild functions
/// and the storage types). It interprets opcodes itself and never imports or calls anything,
/// so a hostile pickle (os.system via __reduce__ and the like) is rejected, not run.
/// </summary>
internal sealed class RestrictedUnpickler
{
    private static readonly HashSet<string> StorageTypes =
    [
        "FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage",
        "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage",
    ];

    private static readonly HashSet<string> AllowedCallables =
    [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_parameter",
    ];

    /// <summary>
    /// Most opcodes one pickle may run. A state_dict takes about 40 per tensor (EfficientNet-B7's
    /// 1,200 tensors: 45,300), and each opcode may allocate an object, so this bounds the memory a
    /// small, highly compressible pickle can make the reader build.
    /// </summary>
    public const int MaxOpcodes = 1_000_000;

    private readonly string _path;
    private readonly byte[] _data;
    private readonly Func<object?[], object> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _pos;
    private int _opcodes;

    public RestrictedUnpickler(string path, byte[] data, Func<object?[], object> persistentLoad)
    {
        _path = path;
        _data = data;
        _persistentLoad = persistentLoad;
    }

    /// <summary>A Python global that passed the allow-list.</summary>
    internal sealed record PyGlobal(string Module, string Name)
    {
        public string FullName => $"{Module}.{Name}";
    }

    /// <summary>A Python dict or OrderedDict, in insertion order.</summary>
    internal sealed class PyDict
    {
        public List<KeyValuePair<object, object?>> Items { get; } = [];
    }

    /// <summary>The arguments of torch._utils._rebuild_tensor(_v2): a view into a storage.</summary>
    internal sealed record TensorView(object Storage, long Offset, long[] Size, long[] Stride);

    public object? Load()
    {
        while (true)
        {
            var at = _pos;
            if (++_opcodes > MaxOpcodes)
                throw Corrupt($"the pickle runs more than {MaxOpcodes:N0} opcodes, far more than a state_dict needs (about 40 per tensor); refusing it before it builds more");
            var op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: Take(8); break; // FRAME
                case (byte)'}': Push(new PyDict()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'(': _marks.Push(_stack.Count); break;
                case (byte)'0': Pop(); break;
                case (byte)'1': PopMark(); break;
                case (byte)'X': Push(Utf8(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case 0x8c: Push(Utf8(ReadByte())); break;
                case 0x8d: Push(Utf8(checked((int)BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break;
                case (byte)'U': Push(Latin1(ReadByte())); break;
                case (byte)'T': Push(Latin1(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case (byte)'C': Push(Take(ReadByte()).ToArray()); break;
                case (byte)'B': Push(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))).ToArray()); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a: Push(Long(ReadByte())); break;
                case 0x8b: Push(Long(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'N': Push(null); break;
                case (byte)'t': Push(PopMark().ToArray()); break;
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'c': Push(Global(ReadLine(), ReadLine())); break;
                case 0x93: { var name = Pop() as string; var module = Pop() as string; Push(Global(module ?? Fail<string>(at, "STACK_GLOBAL without a module name"), name ?? Fail<string>(at, "STACK_GLOBAL without a name"))); break; }
                case (byte)'R': { var args = Pop() as object?[] ?? Fail<object?[]>(at, "REDUCE arguments are not a tuple"); Push(Call(Pop(), args, at)); break; }
                case (byte)'b': Build(Pop(), Peek(at), at); break;
                case (byte)'q': _memo[ReadByte()] = Peek(at); break;
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = Peek(at); break;
                case 0x94: _memo[_memo.Count] = Peek(at); break;
                case (byte)'h': Push(Memo(ReadByte(), at)); break;
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)), at)); break;
                case (byte)'s': { var v = Pop(); var k = Pop(); SetItems(Peek(at), [k, v], at); break; }
                case (byte)'u': { var items = PopMark(); SetItems(Peek(at), items, at); break; }
                case (byte)'a': { var v = Pop(); AsList(Peek(at), at).Add(v); break; }
                case (byte)'e': { var items = PopMark(); AsList(Peek(at), at).AddRange(items); break; }
                case (byte)'Q': { var pid = Pop() as object?[] ?? Fail<object?[]>(at, "a persistent id that is not a tuple"); Push(_persistentLoad(pid)); break; }
                case (byte)'.': return Pop();
                default:
                    var shown = op is >= 0x20 and < 0x7f ? $" ('{(char)op}')" : "";
                    throw new CheckpointFormatException(_path,
                        $"the pickle uses opcode 0x{op:x2}{shown} at byte {at}, which a state_dict never needs; refusing to load it (nothing was executed).");
            }
        }
    }

    private PyGlobal Global(string module, string name)
    {
        var g = new PyGlobal(module, name);
        if (AllowedCallables.Contains(g.FullName) || (module == "torch" && StorageTypes.Contains(name)))
            return g;
        throw new CheckpointFormatException(_path,
            $"the pickle refers to the Python global '{g.FullName}', which a state_dict never needs; refusing to load it (nothing was executed). " +
            "Save only the weights: torch.save(model.state_dict(), path).");
    }

    private object Call(object? callable, object?[] args, int at)
    {
        if (callable is not PyGlobal g) return Fail<object>(at, "REDUCE on something that is not a function");
        switch (g.FullName)
        {
            case "collections.OrderedDict" when args.Length == 0:
                return new PyDict();
            case "torch._utils._rebuild_tensor_v2" or "torch._utils._rebuild_tensor" when args.Length >= 4:
                return new TensorView(
                    args[0] ?? Fail<object>(at, "a tensor without storage"),
                    AsLong(args[1], at), AsLongs(args[2], at), AsLongs(args[3], at));
            case "torch._utils._rebuild_parameter" when args.Length >= 1 && args[0] is TensorView t:
                return t;
            default:
                return Fail<object>(at, $"'{g.FullName}' called with arguments a state_dict does not use");
        }
    }

    private void Build(object? state, object? target, int at)
    {
        // OrderedDict.__reduce__ hands back the instance dict (state_dict keeps its _metadata there); weights don't need it.
        if (target is PyDict) return;
        Fail<object>(at, "BUILD on an object that is not a dict");
    }

    private void SetItems(object? target, IReadOnlyList<object?> items, int at)
    {
        if (target is not PyDict dict || items.Count % 2 != 0) { Fail<object>(at, "SETITEMS on something that is not a dict"); return; }
        for (var i = 0; i < items.Count; i += 2)
            dict.Items.Add(new(items[i] ?? Fail<object>(at, "a dict key that is None"), items[i + 1]));
    }

    private List<object?> AsList(object? target, int at) => target as List<object?> ?? Fail<List<object?>>(at, "APPEND on something that is not a list");

    private long AsLong(object? value, int at) => value is long l ? l : Fail<long>(at, "a tensor offset that is not an integer");

    private long[] AsLongs(object? value, int at) => value is object?[] tuple
        ? tuple.Select(v => v is long l ? l : Fail<long>(at, "a tensor size or stride that is not an integer")).ToArray()
        : Fail<long[]>(at, "a tensor size or stride that is not a tuple");

    private object? Memo(long key, int at) => _memo.TryGetValue(key, out var v) ? v : Fail<object>(at, $"memo entry {key} is read before it is written");

    private void Push(object? value) => _stack.Add(value);

    private object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks.Peek() >= _stack.Count))
            throw Corrupt("the pickle pops from an empty stack");
        var v = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return v;
    }

    private object? Peek(int at) => _stack.Count > 0 ? _stack[^1] : Fail<object>(at, "the pickle reads an empty stack");

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Corrupt("the pickle closes a MARK it never opened");
        var start = _marks.Pop();
        var items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private byte ReadByte() => Take(1)[0];

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count < 0 || _pos > _data.Length - count)
            throw Corrupt("the pickle ends early (the file is truncated or corrupt)");
        var span = _data.AsSpan(_pos, count);
        _pos += count;
        return span;
    }

    private string Utf8(int count) => Encoding.UTF8.GetString(Take(count));

    private string Latin1(int count) => Encoding.Latin1.GetString(Take(count));

    private long Long(int count)
    {
        var bytes = Take(count);
        if (count > 8) throw Corrupt("an integer wider than 64 bits");
        return count == 0 ? 0 : (long)new BigInteger(bytes, isUnsigned: false, isBigEndian: false);
    }

    private string ReadLine()
    {
        var end = Array.IndexOf(_data, (byte)'\n', _pos);
        if (end < 0 || end - _pos > 256) throw Corrupt("a GLOBAL name that does not end");
        var s = Encoding.ASCII.GetString(_data, _pos, end - _pos);
        _pos = end + 1;
        return s;
    }

    private T Fail<T>(int at, string problem) => throw Corrupt($"{problem} (pickle byte {at})");

    private CheckpointFormatException Corrupt(string problem) => new(_path, problem);
}
