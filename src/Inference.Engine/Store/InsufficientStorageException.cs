namespace Inference.Engine.Store;

/// <summary>
/// The models directory's disk (or quota) is full. What the failed operation wrote has been
/// removed again; HTTP routes answer 507 Insufficient Storage.
/// </summary>
public sealed class InsufficientStorageException(string message, Exception? innerException = null) : Exception(message, innerException)
{
    // errno values .NET reports as IOException.HResult on Linux (ENOSPC, EDQUOT) and the Win32
    // errors it reports on Windows (ERROR_HANDLE_DISK_FULL, ERROR_DISK_FULL).
    private const int Enospc = 28, Edquot = 122;
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027), WindowsDiskFull = unchecked((int)0x80070070);

    /// <summary>True when <paramref name="exception"/> is the operating system saying the disk or quota is full.</summary>
    public static bool IsDiskFull(Exception exception) =>
        exception is IOException { HResult: Enospc or Edquot or WindowsHandleDiskFull or WindowsDiskFull };
}
