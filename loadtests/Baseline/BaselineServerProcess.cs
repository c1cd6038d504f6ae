using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FlashSale.LoadTests.EngineApi;

namespace FlashSale.LoadTests.Baseline;

/// <summary>The constant endpoint could not be started or measured.</summary>
public sealed class BaselineException(string message) : Exception(message);

/// <summary>
/// The constant endpoint (loadtests/BaselineServer) as a child process of its own: it must not share
/// the harness's process, thread pool or GC, or the harness would be measuring itself twice.
/// </summary>
public sealed class BaselineServerProcess : IAsyncDisposable
{
    public const string AssemblyFile = "FlashSale.LoadTests.BaselineServer.dll";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _outputLock = new();

    private BaselineServerProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    public Uri Url { get; }

    /// <summary>What the server said about itself when it started (its answers, GC mode, processors).</summary>
    public string Description { get; private set; } = "";

    public string Output
    {
        get
        {
            lock (_outputLock)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The server's build output beside the harness's: loadtests/BaselineServer/bin/&lt;configuration&gt;/&lt;tfm&gt;/.</summary>
    public static string FindAssembly()
    {
        var output = new DirectoryInfo(AppContext.BaseDirectory);
        var framework = output.Name.Length > 0 ? output : output.Parent!;
        var configuration = framework.Parent;
        var project = configuration?.Parent?.Parent;
        if (project is null)
        {
            throw new BaselineException($"cannot tell the harness's build configuration from {AppContext.BaseDirectory}");
        }
        var path = Path.Combine(project.FullName, "BaselineServer", "bin", configuration!.Name, framework.Name, AssemblyFile);
        return File.Exists(path)
            ? path
            : throw new BaselineException($"{path} is missing: build loadtests (it builds BaselineServer too) in the same configuration");
    }

    /// <param name="stock">Units each SKU route answers 201 for before answering sold-out; null: 201 always.</param>
    public static async Task<BaselineServerProcess> StartAsync(int? stock, BuyerTokens tokens, CancellationToken cancellationToken)
    {
        var assembly = FindAssembly();
        var url = new Uri($"http://127.0.0.1:{FreePort()}");
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(assembly)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(assembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add(url.ToString());
        if (stock is { } units)
        {
            info.ArgumentList.Add("--stock");
            info.ArgumentList.Add(units.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";

        var process = new Process { StartInfo = info };
        var server = new BaselineServerProcess(process, url);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        if (!process.Start())
        {
            throw new BaselineException("dotnet did not start");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var probe = new EngineClient(url, 1, TimeSpan.FromSeconds(5), tokens);
        var deadline = Stopwatch.GetTimestamp() + (long)(StartTimeout.TotalSeconds * Stopwatch.Frequency);
        while (await probe.ReadinessAsync(cancellationToken) != "Healthy")
        {
            if (process.HasExited || Stopwatch.GetTimestamp() > deadline)
            {
                await server.DisposeAsync();
                throw new BaselineException($"the constant endpoint did not come up at {url}:\n{server.Output}");
            }
            await Task.Delay(100, cancellationToken);
        }
        server.Description = server.Output.Split('\n').FirstOrDefault(l => l.StartsWith("Constant endpoint ready", StringComparison.Ordinal))?.Trim() ?? "";
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_outputLock)
        {
            _output.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
