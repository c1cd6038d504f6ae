using System.Diagnostics;

namespace FlashSale.Tests.Infrastructure;

/// <summary>One of the repository's command-line programs (the Warmup CLI, the load-test harness), run to its end from its build output.</summary>
public static class ToolProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => $"--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
    }

    /// <summary>The build output of <paramref name="project"/>'s <paramref name="assembly"/>, in the tests' own configuration.</summary>
    public static string Dll(string project, string assembly)
    {
        var dll = Path.Combine(Repository.Root, project, "bin", Repository.Configuration, "net10.0", assembly);
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution first (dev/test.sh does).");
        return dll;
    }

    /// <summary>Runs the program and waits for it; one that runs longer than <paramref name="timeout"/> is killed and fails the test.</summary>
    public static async Task<Result> RunAsync(
        string dll, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var cancel = new CancellationTokenSource(timeout))
        {
            try
            {
                await process.WaitForExitAsync(cancel.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail($"{Path.GetFileName(dll)} ran longer than {timeout.TotalMinutes} min:\n{await stdout}\n{await stderr}");
            }
        }
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
