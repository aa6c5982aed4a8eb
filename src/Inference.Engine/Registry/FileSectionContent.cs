using System.Net;

namespace Inference.Engine.Registry;

/// <summary>
/// One chunk of a blob upload: bytes [offset, offset + length) of a stored blob, streamed from the file (never
/// buffered whole), with a known Content-Length. It can be sent again (it seeks to its start each time).
/// </summary>
/// <param name="sent">Told the absolute position in the blob every <see cref="ProgressEveryBytes"/> bytes sent.</param>
internal sealed class FileSectionContent(Stream file, long offset, long length, Action<long> sent) : HttpContent
{
    public const long ProgressEveryBytes = 1 << 20;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
    {
        file.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[1 << 16];
        long done = 0, reported = 0;
        while (done < length)
        {
            int read = await file.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - done)), ct);
            if (read == 0) throw new IOException($"the blob file ended {length - done} bytes before the chunk it was uploading");
            await stream.WriteAsync(buffer.AsMemory(0, read), ct);
            done += read;
            if (done - reported >= ProgressEveryBytes && done < length)
            {
                sent(offset + done);
                reported = done;
            }
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length1)
    {
        length1 = length;
        return true;
    }
}
