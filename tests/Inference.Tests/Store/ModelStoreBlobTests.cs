using System.Text;
using Inference.Engine.Store;

namespace Inference.Tests.Store;

public class ModelStoreBlobTests : IDisposable
{
    private readonly StoreFixture _f = new();
    private ModelStore Store => _f.Store;

    public void Dispose() => _f.Dispose();

    [Fact]
    public void Directories_AreCreatedLazily()
    {
        Assert.Empty(Store.List());
        Assert.False(Directory.Exists(Store.BlobsDirectory));
        Assert.False(Directory.Exists(Store.ManifestsDirectory));
    }

    [Fact]
    public async Task Import_WithExpectedDigest_StoresUnderDigest()
    {
        var digest = StoreFixture.Sha256("hello");
        var layer = await Store.ImportBlobAsync(new MemoryStream(Encoding.UTF8.GetBytes("hello")), MediaTypes.System, digest, CancellationToken.None);

        Assert.Equal(new ManifestLayer(MediaTypes.System, digest, 5), layer);
        Assert.True(Store.BlobExists(digest));
        Assert.True(Store.BlobExists(digest.Replace(':', '-')));
        Assert.Equal("hello", File.ReadAllText(Store.BlobPath(digest)));
        Assert.Equal(Path.Combine(Store.BlobsDirectory, "sha256-" + digest[7..]), Store.BlobPath(digest));
        Assert.Equal("hello", Store.ReadText(layer));
        Assert.Single(Directory.GetFiles(Store.BlobsDirectory));
    }

    [Fact]
    public async Task Import_Mismatch_LeavesNothingBehind()
    {
        var wrong = StoreFixture.Sha256("something else");
        var e = await Assert.ThrowsAsync<BlobDigestMismatchException>(() =>
            Store.ImportBlobAsync(new MemoryStream(Encoding.UTF8.GetBytes("hello")), MediaTypes.Model, wrong, CancellationToken.None));

        Assert.Equal(wrong, e.Expected);
        Assert.Equal(StoreFixture.Sha256("hello"), e.Actual);
        Assert.Empty(Directory.GetFileSystemEntries(Store.BlobsDirectory));
    }

    [Fact]
    public async Task Import_SameContentTwice_KeepsOneBlob()
    {
        var a = await Store.WriteTextBlobAsync("same", MediaTypes.Template, CancellationToken.None);
        var b = await Store.WriteTextBlobAsync("same", MediaTypes.System, CancellationToken.None);
        Assert.Equal(a.Digest, b.Digest);
        Assert.Single(Directory.GetFiles(Store.BlobsDirectory));
    }

    [Fact]
    public async Task Import_Cancelled_LeavesNothingBehind()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Store.ImportBlobAsync(new MemoryStream(new byte[10]), MediaTypes.Model, null, cts.Token));
        Assert.Empty(Directory.GetFileSystemEntries(Store.BlobsDirectory));
    }

    [Fact]
    public async Task ImportFile_HashesTheFile()
    {
        var path = Path.Combine(_f.Root, "input.bin");
        var bytes = new byte[3_000_000];
        new Random(1).NextBytes(bytes);
        await File.WriteAllBytesAsync(path, bytes);

        var layer = await Store.ImportFileAsync(path, MediaTypes.Model, CancellationToken.None);

        Assert.Equal("sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), layer.Digest);
        Assert.Equal(bytes.Length, layer.Size);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(Store.BlobPath(layer.Digest)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sha256:")]
    [InlineData("sha256:../../etc/passwd")]
    [InlineData("sha256-../../../manifests/registry.ollama.ai/library/x/latest")]
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde")]   // 63 digits
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")] // 65 digits
    [InlineData("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef")]  // uppercase
    [InlineData("sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("sha256/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("sha256:0123456789abcdef0123456789abcdef0123456789abcdef01234567/../..")]
    public async Task InvalidDigests_AreRejected(string digest)
    {
        Assert.Throws<ArgumentException>(() => Store.BlobPath(digest));
        Assert.Throws<ArgumentException>(() => Store.BlobExists(digest));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.ImportBlobAsync(new MemoryStream([1]), MediaTypes.Model, digest, CancellationToken.None));
        Assert.Throws<ArgumentException>(() => Store.ReadText(new ManifestLayer(MediaTypes.Template, digest, 1)));
        Assert.False(Directory.Exists(Store.BlobsDirectory));
    }
}
