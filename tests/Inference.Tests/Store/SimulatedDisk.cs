namespace Inference.Tests.Store;

/// <summary>
/// A disk that fills up: wraps the files the store writes (its <c>OpenForWriting</c> seam) and
/// throws the operating system's "No space left on device" (ENOSPC, HResult 28 as .NET reports it
/// on Linux) once <see cref="FreeBytes"/> are used up, or on the first write to a path
/// <see cref="FullFor"/> matches.
/// </summary>
public sealed class SimulatedDisk
{
    private long _free = long.MaxValue;

    public long FreeBytes
    {
        get => Interlocked.Read(ref _free);
        set => Interlocked.Exchange(ref _free, value);
    }

    /// <summary>Paths whose writes fail as if the disk were full (e.g. manifests only).</summary>
    public Func<string, bool> FullFor { get; set; } = _ => false;

    /// <summary>Back to an empty, unlimited disk.</summary>
    public void Reset()
    {
        FreeBytes = long.MaxValue;
        FullFor = _ => false;
    }

    public Stream Open(string path, FileMode mode) =>
        new FillingStream(new FileStream(path, mode, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous), this, FullFor(path));

    private static IOException NoSpace() => new("No space left on device", 28);

    private sealed class FillingStream(FileStream inner, SimulatedDisk disk, bool full) : Stream
    {
        private void Take(int count)
        {
            if (full) throw NoSpace();
            if (Interlocked.Add(ref disk._free, -count) < 0)
            {
                Interlocked.Add(ref disk._free, count);
                throw NoSpace();
            }
        }

        public override void Write(byte[] buffer, int offset, int count)
        {
            Take(count);
            inner.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Take(buffer.Length);
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Take(buffer.Length);
            await inner.WriteAsync(buffer, ct);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override void Flush() => inner.Flush();
        public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await inner.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
