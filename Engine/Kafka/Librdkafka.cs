using System.Runtime.InteropServices;

namespace FlashSale.Engine.Kafka;

/// <summary>
/// Picks the librdkafka build that loads on this machine and binds Confluent.Kafka to it, so every
/// process (hosts, tests, the mock broker host) runs the same native library.
/// </summary>
/// <remarks>
/// librdkafka.redist ships several Linux builds. The default <c>librdkafka.so</c> links
/// <c>libsasl2.so.3</c>, which Debian 12 does not have; <c>centos8-librdkafka.so</c> links only glibc.
/// Which one works is only known by loading it, so the choice is made by trying, in this order:
/// <list type="number">
/// <item><c>FLASHSALE_LIBRDKAFKA</c>, an explicit path (any OS);</item>
/// <item>on Linux, <c>librdkafka.so</c> then <c>centos8-librdkafka.so</c>, in
/// <c>runtimes/linux-{arch}/native/</c> under the app (where a portable build copies them) and then
/// the app directory itself (where a RID-specific publish flattens them);</item>
/// <item>elsewhere nothing: Confluent.Kafka's own probing works on Windows and macOS.</item>
/// </list>
/// </remarks>
public static class Librdkafka
{
    public const string PathVariable = "FLASHSALE_LIBRDKAFKA";

    private static readonly string[] LinuxCandidates = ["librdkafka.so", "centos8-librdkafka.so"];

    // The library names Confluent.Kafka 2.16 imports librdkafka under (one binding class per build).
    private static readonly HashSet<string> ConfluentImportNames =
        new(["librdkafka", "centos8-librdkafka", "alpine-librdkafka"], StringComparer.Ordinal);

    // ExecutionAndPublication: an assembly takes one DllImport resolver and Confluent.Kafka loads once
    // per process; a failure is deterministic (the files do not change under a running process), so
    // caching it is right.
    private static readonly Lazy<LoadedLibrary?> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The file chosen by <see cref="EnsureLoaded"/>, for logging; null before it ran and when Confluent.Kafka's default probing is used.</summary>
    public static string? LoadedPath => Loaded.IsValueCreated ? Loaded.Value?.Path : null;

    /// <summary>
    /// The native handle of that file (for <see cref="NativeLibrary.GetExport"/> or a DllImport resolver),
    /// or zero when Confluent.Kafka's default probing is used. Never freed: it lives as long as the process.
    /// </summary>
    public static nint Handle => Loaded.IsValueCreated ? Loaded.Value?.Handle ?? 0 : 0;

    /// <summary>Loads librdkafka once; call it before the first producer, consumer or admin client.</summary>
    /// <returns>The path loaded, or null when Confluent.Kafka's default probing is used.</returns>
    /// <remarks>
    /// A client built before this call makes Confluent.Kafka pick a build by its own probing, and
    /// <see cref="PathVariable"/> is then not honoured by it.
    /// </remarks>
    /// <exception cref="DllNotFoundException">No candidate loads.</exception>
    public static string? EnsureLoaded() => Loaded.Value?.Path;

    private static LoadedLibrary? Load()
    {
        var library = Find();
        if (library is null)
        {
            return null;
        }

        // Library.Load(path) cannot be used: on Linux it dlopens through [DllImport("libdl")], and
        // Debian 12 has libdl.so.2 but no libdl.so, so it throws. Even where it works, its bindings are
        // [DllImport("librdkafka")] and friends, which the runtime resolves by probing file names, not
        // to the file that was dlopened. A resolver on Confluent.Kafka's assembly binds each of its
        // librdkafka names to the chosen handle instead, so every call lands in this one copy.
        NativeLibrary.SetDllImportResolver(typeof(Confluent.Kafka.Library).Assembly, (name, _, _) =>
            ConfluentImportNames.Contains(name) ? library.Handle : 0);

        // False when Confluent.Kafka initialised itself because a client was built before this ran. Not
        // an error worth failing a process (or a test run, where the order of fixtures varies): it then
        // keeps the build it probed for, which in 2.16 falls back to centos8-librdkafka.so as well,
        // and the handle above stays valid for direct calls.
        Confluent.Kafka.Library.Load();
        return library;
    }

    private static LoadedLibrary? Find()
    {
        var explicitPath = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(explicitPath))
        {
            var fullPath = Path.GetFullPath(explicitPath);
            try
            {
                return new LoadedLibrary(fullPath, NativeLibrary.Load(fullPath));
            }
            catch (DllNotFoundException e)
            {
                throw new DllNotFoundException($"{PathVariable}={explicitPath} does not load: {e.Message}", e);
            }
        }

        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var tried = new List<string>();
        foreach (var directory in LinuxDirectories())
        {
            foreach (var name in LinuxCandidates)
            {
                var path = Path.Combine(directory, name);
                if (!File.Exists(path))
                {
                    continue;
                }

                tried.Add(path);
                // TryLoad, not File.Exists, decides: the default build exists but fails on missing libsasl2.
                if (NativeLibrary.TryLoad(path, out var handle))
                {
                    return new LoadedLibrary(path, handle);
                }
            }
        }

        throw new DllNotFoundException(tried.Count == 0
            ? $"No librdkafka build was found under {AppContext.BaseDirectory}; set {PathVariable} to the library's path."
            : $"No librdkafka build loads on this machine (tried {string.Join(", ", tried)}); set {PathVariable} to one that does.");
    }

    private static IEnumerable<string> LinuxDirectories()
    {
        var baseDirectory = AppContext.BaseDirectory;
        var architecture = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        yield return Path.Combine(baseDirectory, "runtimes", $"linux-{architecture}", "native");
        yield return baseDirectory;
    }

    private sealed record LoadedLibrary(string Path, nint Handle);
}
