using System.Globalization;

namespace FlashSale.LoadTests.Measurement;

/// <summary>
/// The Ingress process under test, found so that its resident memory can be sampled; or why it was not found.
/// A pid is only used when it is known to be that Ingress: given with --ingress-pid, or a process that listens on
/// the port of --url. <c>dev/up.sh</c>'s pid file is asked first, but a second engine (a test fixture's, another
/// checkout's) listens elsewhere, so the file's process is checked against the port before it is believed.
/// </summary>
public sealed record IngressProcess(int? Pid, string Description)
{
    public const string PidFileName = "ingress.pid";

    /// <summary>Resident memory (VmRSS of /proc/&lt;pid&gt;/status) in bytes; null when the process is gone or unreadable.</summary>
    public long? ResidentBytes()
    {
        if (Pid is not { } pid)
        {
            return null;
        }
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var kilobytes = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.Parse(kilobytes, NumberStyles.None, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
            // The process ended between samples: the sample says so by its absence.
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }

    public static IngressProcess Locate(Uri ingress, int? explicitPid, string? runDirectory)
    {
        if (explicitPid is { } given)
        {
            return Directory.Exists($"/proc/{given}")
                ? new IngressProcess(given, Invariant($"pid {given} (--ingress-pid)"))
                : new IngressProcess(null, Invariant($"--ingress-pid {given}: no such process"));
        }
        if (!OperatingSystem.IsLinux())
        {
            return new IngressProcess(null, "not sampled: resident memory is read from /proc, which this system has not");
        }
        if (!ingress.IsLoopback)
        {
            return new IngressProcess(null, Invariant($"not sampled: the Ingress at {ingress} is not on this machine (give --ingress-pid if it is)"));
        }
        var port = ingress.Port;
        var listening = ListeningSocketInodes(port);
        var pidFile = runDirectory is null ? null : Path.Combine(runDirectory, PidFileName);
        var fromFile = pidFile is not null && File.Exists(pidFile)
            && int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var filePid) ? filePid : (int?)null;
        if (fromFile is { } candidate && OwnsAny(candidate, listening))
        {
            return new IngressProcess(candidate, Invariant($"pid {candidate} from {pidFile}, listening on port {port}"));
        }
        var note = fromFile is { } other
            ? Invariant($"{pidFile} names pid {other}, which does not listen on port {port}; ")
            : pidFile is null ? "" : Invariant($"no {pidFile}; ");
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && OwnsAny(pid, listening))
            {
                return new IngressProcess(pid, note + Invariant($"pid {pid}, the process listening on port {port}"));
            }
        }
        return new IngressProcess(null, "not sampled: " + note + Invariant($"no process of this user listens on port {port} (give --ingress-pid)"));
    }

    /// <summary>Inodes of the TCP sockets listening on <paramref name="port"/> (IPv4 and IPv6), from /proc/net/tcp*.</summary>
    private static HashSet<string> ListeningSocketInodes(int port)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        var hexPort = port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == "0A" && fields[1].EndsWith(":" + hexPort, StringComparison.Ordinal))
                {
                    inodes.Add(fields[9]);
                }
            }
        }
        return inodes;
    }

    /// <summary>True when one of the process's open files is one of the sockets; false for another user's process (unreadable fds).</summary>
    private static bool OwnsAny(int pid, HashSet<string> socketInodes)
    {
        if (socketInodes.Count == 0)
        {
            return false;
        }
        try
        {
            foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && socketInodes.Contains(target["socket:[".Length..^1]))
                {
                    return true;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone, or not ours to look into.
        }
        return false;
    }
}
