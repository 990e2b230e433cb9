namespace EffNet.MLNet.AspNetCore;

/// <summary>
/// An upload's bytes as they arrive, in fixed-size blocks: memory grows with what was received (never
/// to a declared length a client may not send, nor twice over as a doubling buffer would), and each
/// block is reserved from the endpoint's <see cref="BodyBudget"/> before it is allocated.
/// </summary>
internal sealed class UploadBuffer(BodyBudget budget)
{
    public const int BlockSize = 64 * 1024;

    private readonly List<byte[]> _blocks = [];

    public long Length { get; private set; }

    /// <summary>Bytes reserved from the budget (whole blocks).</summary>
    public long Reserved => (long)_blocks.Count * BlockSize;

    /// <summary>Where the next bytes go: the free end of the last block, or a new block; empty when the budget is spent.</summary>
    public Memory<byte> Free()
    {
        var used = (int)(Length % BlockSize);
        if (Length < Reserved) return _blocks[^1].AsMemory(used);
        if (!budget.TryReserve(BlockSize)) return Memory<byte>.Empty;
        _blocks.Add(new byte[BlockSize]);
        return _blocks[^1];
    }

    public void Advance(int count) => Length += count;

    /// <summary>The bytes as a read-only stream over the blocks (no copy).</summary>
    public Stream Open() => new BlockStream(_blocks, Length);

    public void Release() => budget.Release(Reserved);

    private sealed class BlockStream(List<byte[]> blocks, long length) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position { get; set; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (buffer.Length > 0 && Position < length)
            {
                var block = blocks[(int)(Position / BlockSize)];
                var at = (int)(Position % BlockSize);
                var n = (int)Math.Min(Math.Min(buffer.Length, BlockSize - at), length - Position);
                block.AsSpan(at, n).CopyTo(buffer);
                buffer = buffer[n..];
                Position += n;
                total += n;
            }
            return total;
        }

        public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => Position + offset,
            _ => length + offset,
        };

        public override void Flush() { }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
