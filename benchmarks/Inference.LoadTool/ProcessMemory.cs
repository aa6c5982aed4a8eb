using System.Globalization;

namespace Inference.LoadTool;

/// <summary>Resident memory of a process on Linux, from /proc/PID/status (VmRSS).</summary>
public static class ProcessMemory
{
    /// <summary>The process's RSS in MiB, or null when it cannot be read (no such process, not Linux).</summary>
    public static double? RssMib(int? pid)
    {
        if (pid is null) return null;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (ParseVmRssKib(line) is { } kib) return kib / 1024.0;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    /// <summary>"VmRSS:   123456 kB" → 123456; null for any other line.</summary>
    public static long? ParseVmRssKib(string line)
    {
        if (!line.StartsWith("VmRSS:", StringComparison.Ordinal)) return null;
        var parts = line[6..].Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kib) ? kib : null;
    }
}
