using System.Diagnostics;
using System.Text;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// One of the engine's real hosts (Ingress or Persister) as its own OS process, started from the
/// build output of its project, so a test can <c>kill -9</c> it and start it again.
/// </summary>
public sealed class EngineProcess : IAsyncDisposable
{
    private readonly string _name;
    private readonly string _dll;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string[] _arguments;
    private readonly string? _listenSetting;
    private readonly StringBuilder _log = new();
    private readonly Lock _logLock = new();
    // FLASHSALE_TEST_LOG_DIR: every engine process's output also goes to <dir>/<name>.log, kept after the run.
    private readonly string? _logFile;
    private Process? _process;
    private TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Uri? _url;

    public EngineProcess(string name, string project, IReadOnlyDictionary<string, string> environment, params string[] arguments)
        : this(name, project, environment, listenSetting: null, arguments)
    {
    }

    private EngineProcess(string name, string project, IReadOnlyDictionary<string, string> environment, string? listenSetting, string[] arguments)
    {
        _name = name;
        _dll = Path.Combine(Repository.Root, project, "bin", Repository.Configuration, "net10.0", $"FlashSale.{project}.dll");
        _environment = environment;
        _listenSetting = listenSetting;
        _arguments = arguments;
        _logFile = Environment.GetEnvironmentVariable("FLASHSALE_TEST_LOG_DIR") is { Length: > 0 } dir
            ? Path.Combine(Directory.CreateDirectory(dir).FullName, $"{name}.log")
            : null;
    }

    /// <summary>
    /// A host whose HTTP listener (Ingress's API, the Persister's metrics) binds a port the system picks: no other
    /// process can take it between choosing and binding. <see cref="Url"/> is the port it got; a restart binds it again.
    /// </summary>
    public static EngineProcess Listening(string name, string project, IReadOnlyDictionary<string, string> environment)
        => new(name, project, environment, project == "Persister" ? "Persister:MetricsUrl" : "urls", []);

    /// <summary>Where the host listens, as it said on its first start.</summary>
    public Uri Url => _url ?? throw new InvalidOperationException($"{_name} has not said where it listens: start it first (made with Listening?).");

    public string Log
    {
        get
        {
            lock (_logLock)
            {
                return _log.ToString();
            }
        }
    }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts the process and waits for the host's "Application started".</summary>
    public async Task StartAsync()
    {
        if (!File.Exists(_dll))
        {
            throw new InvalidOperationException($"{_dll} is missing: build the solution first (dev/test.sh does).");
        }
        _started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(_dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(_dll);
        foreach (var argument in _arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (_listenSetting is not null)
        {
            info.ArgumentList.Add($"--{_listenSetting}={_url?.ToString() ?? "http://127.0.0.1:0"}");
        }
        info.Environment["DOTNET_ENVIRONMENT"] = "Testing";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (key, value) in _environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Exited += (_, _) => _started.TrySetException(new InvalidOperationException($"{_name} exited during start-up:\n{Log}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var timeout = Task.Delay(TimeSpan.FromSeconds(60));
        if (await Task.WhenAny(_started.Task, timeout) == timeout)
        {
            throw new TimeoutException($"{_name} did not start within 60 s:\n{Log}");
        }
        await _started.Task;
    }

    /// <summary>SIGKILL: no shutdown hooks, no flush, no offset commit, exactly like a crash.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    /// <summary>SIGTERM and a graceful shutdown.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } process)
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await process.WaitForExitAsync(timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process?.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_logLock)
        {
            _log.AppendLine(line);
            if (_logFile is not null)
            {
                File.AppendAllText(_logFile, $"{DateTime.UtcNow:HH:mm:ss.fff} {line}\n");
            }
        }
        const string listening = "Now listening on: ";
        if (_url is null && line.IndexOf(listening, StringComparison.Ordinal) is var at and >= 0)
        {
            _url = new Uri(line[(at + listening.Length)..].Trim());
        }
        if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }
}

/// <summary>Where the repository and its build outputs are, seen from the test assembly.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>The configuration the tests were built in; the hosts are taken from the same one.</summary>
    public static string Configuration { get; } = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        ? "Release"
        : "Debug";

    public static string RunDirectory => Environment.GetEnvironmentVariable("FLASHSALE_RUN") ?? Path.Combine(Root, ".run");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FlashSale.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("FlashSale.sln not found above " + AppContext.BaseDirectory);
    }
}
