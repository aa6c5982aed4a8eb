using System.Runtime.InteropServices;

namespace Inference.Engine.Models;

/// <summary>
/// Which files on the server <c>POST /api/create</c>'s <c>from</c> may name: regular files under
/// the directories the operator lists (<c>Inference:ImportDirectories</c>; none by default, so
/// clients upload with <c>POST /api/blobs</c> instead). The path is resolved as the kernel would
/// (every symbolic link and <c>..</c>, component by component) before containment is checked, and
/// the file type is read without opening the file, so a FIFO or device is refused instead of
/// blocking a request thread. One answer (null) covers missing, outside and not-a-regular-file, so
/// callers cannot tell a client whether a path outside the directories exists.
/// </summary>
/// <remarks>
/// Start-up registrations (<c>--model name=path</c>) are the operator's own and do not pass through here.
/// The check and the later open are two steps: someone who can replace files inside an import
/// directory between them could swap the file; that needs write access to a directory the operator trusts.
/// </remarks>
public static partial class ImportDirectories
{
    private const int MaxSymbolicLinks = 40; // Linux's own limit (ELOOP)

    /// <summary>The canonical path of <paramref name="requested"/> when it is a regular file inside one of <paramref name="directories"/>, else null.</summary>
    public static string? Resolve(string requested, IEnumerable<string> directories)
    {
        if (string.IsNullOrEmpty(requested) || requested.Contains('\0')) return null;
        string? path = Canonical(Path.IsPathRooted(requested) ? requested : Path.Join(Environment.CurrentDirectory, requested));
        if (path is null || !IsRegularFile(path)) return null;
        foreach (var directory in directories)
        {
            if (!Path.IsPathFullyQualified(directory)) continue; // blank, or relative (refused at start-up by EngineOptions.Validate)
            if (Canonical(directory) is { } root && path.StartsWith(WithSeparator(root), StringComparison.Ordinal))
                return path;
        }
        return null;
    }

    /// <summary>The directory with exactly one separator at its end, so <c>/srv/models</c> does not contain <c>/srv/models2/x</c> and <c>/</c> stays <c>/</c>.</summary>
    private static string WithSeparator(string directory) => Path.TrimEndingDirectorySeparator(directory) is var d && d.EndsWith(Path.DirectorySeparatorChar) ? d : d + Path.DirectorySeparatorChar;

    /// <summary>
    /// <paramref name="path"/> (absolute) with every symbolic link and <c>.</c>/<c>..</c> resolved,
    /// component by component as the kernel does (so <c>link/..</c> is the link target's parent,
    /// not the link's); null when a component does not exist or links loop.
    /// </summary>
    internal static string? Canonical(string path)
    {
        string root = Path.GetPathRoot(path) ?? "/";
        var rest = new LinkedList<string>(path[root.Length..].Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries));
        string current = root;
        int links = 0;
        while (rest.First is { } node)
        {
            rest.RemoveFirst();
            string part = node.Value;
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }
            string next = Path.Join(current, part);
            var entry = new FileInfo(next);
            if (entry.LinkTarget is { } target)
            {
                if (++links > MaxSymbolicLinks) return null;
                if (Path.IsPathRooted(target)) current = Path.GetPathRoot(target) ?? root;
                var parts = target[(Path.IsPathRooted(target) ? (Path.GetPathRoot(target) ?? "").Length : 0)..]
                    .Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries);
                for (int i = parts.Length - 1; i >= 0; i--) rest.AddFirst(parts[i]);
                continue;
            }
            if (!entry.Exists && !Directory.Exists(next)) return null;
            current = next;
        }
        return current;
    }

    /// <summary>True for a regular file (not a directory, link, FIFO, socket or device), told without opening it.</summary>
    internal static bool IsRegularFile(string path)
    {
        if (!OperatingSystem.IsLinux())
            return File.Exists(path) && new FileInfo(path).LinkTarget is null;
        // .NET has no public API for the file type; statx's buffer layout is the same on every
        // Linux architecture (stx_mode is the 16-bit field at offset 28).
        Span<byte> buffer = stackalloc byte[256];
        if (Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0) return false;
        ushort mode = BitConverter.ToUInt16(buffer[28..30]);
        return (mode & SIfmt) == SIfreg;
    }

    private const int AtFdCwd = -100, AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int SIfmt = 0xF000, SIfreg = 0x8000;

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int dirfd, string path, int flags, uint mask, Span<byte> buffer);
}
