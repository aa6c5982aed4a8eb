using System.Runtime.InteropServices;
using Inference.Engine.Backend;
using Inference.Tests.Support;

namespace Inference.Tests.Backend;

/// <summary>The llama.cpp commit, written once, against the bundled library and the build script.</summary>
public sealed class LlamaCppVersionTests
{
    [Fact]
    public void The_commit_is_what_every_bundled_libggml_base_reports()
    {
        var rid = RuntimeInformation.RuntimeIdentifier.StartsWith("linux-musl", StringComparison.Ordinal) ? "linux-musl-x64" : RuntimeInformation.RuntimeIdentifier;
        var libraries = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native"), "libggml-base.so", SearchOption.AllDirectories);
        Assert.NotEmpty(libraries); // noavx, avx, avx2, avx512 on linux-x64
        foreach (var library in libraries)
        {
            var reported = GgmlCommit(library);
            Assert.True(LlamaCppVersion.Commit.StartsWith(reported, StringComparison.Ordinal) && reported.Length >= 7,
                $"{library} reports llama.cpp {reported}, LlamaCppVersion.Commit is {LlamaCppVersion.Commit}");
        }
    }

    [Theory]
    [InlineData("815a2a591", true)]
    [InlineData("815a2a5915f22ce6a760c676389c5dfe8535c08f", true)]
    [InlineData("815a2a591-dirty", true)]
    [InlineData("815A2A591", true)]
    [InlineData("815a2a", false)] // too short to name one commit
    [InlineData("c0c7e147e", false)] // LLamaSharp 0.28.0's commit
    [InlineData("deadbeef", false)]
    [InlineData("unknown", false)] // built outside git
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Matches_takes_a_short_hash_of_the_commit_and_nothing_else(string? reported, bool expected) =>
        Assert.Equal(expected, LlamaCppVersion.Matches(reported));

    [Fact]
    public async Task The_build_script_reads_the_same_commit_and_refuses_a_tree_at_another()
    {
        using var source = new TempDirectory();
        var head = await CommitStandInTreeAsync(source);

        using var output = new TempDirectory();
        var (code, stdout, stderr) = await Processes.RunAsync("bash",
            [Path.Combine(TestModels.RepoRoot(), "scripts", "build-llama-native.sh"), "--source", source.Path, "--out", output.Path]);

        Assert.Equal(2, code);
        Assert.Equal("", stdout);
        Assert.Equal($"build-llama-native: '{source.Path}' is at llama.cpp commit {head}, but LLamaSharp 0.30.0 binds {LlamaCppVersion.Commit}; " +
            "check out that commit, or pass --allow-other-commit for a build the server will refuse to load\n", stderr);
        Assert.Empty(Directory.GetFileSystemEntries(output.Path));
    }

    [Fact]
    public async Task The_build_script_reads_an_archives_commit_and_refuses_one_without()
    {
        using var source = new TempDirectory();
        var head = await CommitStandInTreeAsync(source);
        using var work = new TempDirectory();
        var ofCommit = work.Combine("llama.tar");
        var ofTree = work.Combine("tree.tar");
        await Processes.RunCheckedAsync("git", ["-C", source.Path, "archive", "-o", ofCommit, "HEAD"]);
        await Processes.RunCheckedAsync("git", ["-C", source.Path, "archive", "-o", ofTree, "HEAD^{tree}"]);
        var script = Path.Combine(TestModels.RepoRoot(), "scripts", "build-llama-native.sh");

        var (code, _, stderr) = await Processes.RunAsync("bash", [script, "--archive", ofCommit, "--build-dir", work.Combine("b1"), "--out", work.Combine("o1")]);
        Assert.Equal(2, code);
        Assert.Equal($"build-llama-native: '{ofCommit}' is at llama.cpp commit {head}, but LLamaSharp 0.30.0 binds {LlamaCppVersion.Commit}; " +
            "check out that commit, or pass --allow-other-commit for a build the server will refuse to load\n", stderr);

        (code, _, stderr) = await Processes.RunAsync("bash", [script, "--archive", ofTree, "--build-dir", work.Combine("b2"), "--out", work.Combine("o2")]);
        Assert.Equal(2, code);
        Assert.Equal($"build-llama-native: '{ofTree}' carries no commit id (make it with git archive from a commit, not a tree)\n", stderr);
        Assert.False(Directory.Exists(work.Combine("o1")) || Directory.Exists(work.Combine("o2")));
    }

    /// <summary>A stand-in llama.cpp tree: the two files the script looks for, committed to git. Returns the commit.</summary>
    private static async Task<string> CommitStandInTreeAsync(TempDirectory source)
    {
        Directory.CreateDirectory(source.Combine("include"));
        File.WriteAllText(source.Combine("CMakeLists.txt"), "");
        File.WriteAllText(source.Combine("include", "llama.h"), "");
        await Processes.RunCheckedAsync("git", ["init", "-q", source.Path]);
        await Processes.RunCheckedAsync("git", ["-C", source.Path, "add", "."]);
        await Processes.RunCheckedAsync("git", ["-C", source.Path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "stand-in"]);
        return (await Processes.RunCheckedAsync("git", ["-C", source.Path, "rev-parse", "HEAD"])).Trim();
    }

    private static unsafe string GgmlCommit(string library)
    {
        var handle = NativeLibrary.Load(library);
        var commit = (delegate* unmanaged<IntPtr>)NativeLibrary.GetExport(handle, "ggml_commit");
        return Marshal.PtrToStringUTF8(commit())!;
    }
}
