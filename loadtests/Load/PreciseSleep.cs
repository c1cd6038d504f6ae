using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FlashSale.LoadTests.Load;

/// <summary>Why <see cref="PreciseSleep.Until"/> returned.</summary>
internal enum SleepEnd
{
    Reached,
    Stopped,
    Woken,
}

/// <summary>
/// Waits until a Stopwatch timestamp with sub-millisecond precision. Every managed wait
/// (Thread.Sleep, Task.Delay, wait handles) rounds to whole milliseconds and oversleeps by about
/// one, which at thousands of requests per second would send most of them ~1 ms late and add
/// that to every latency measured from the intended start. On Unix, usleep wakes within ~0.1 ms.
/// </summary>
internal static class PreciseSleep
{
    /// <summary>Below this the wait is spun: a sleep this short would overshoot by more than it waits.</summary>
    private static readonly long SpinThreshold = Stopwatch.Frequency / 10_000;

    private static bool _nativeAvailable = OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD();

    /// <summary>
    /// Blocks until <paramref name="timestamp"/>, or until <paramref name="stop"/> is cancelled, or until
    /// <paramref name="wake"/> is signalled (noticed during the coarse part of the wait, not the last millisecond).
    /// </summary>
    public static SleepEnd Until(long timestamp, CancellationToken stop, WaitHandle? wake = null)
    {
        while (true)
        {
            var remaining = timestamp - Stopwatch.GetTimestamp();
            if (remaining <= 0)
            {
                return stop.IsCancellationRequested ? SleepEnd.Stopped : SleepEnd.Reached;
            }
            var milliseconds = remaining * 1000 / Stopwatch.Frequency;
            if (milliseconds >= 2)
            {
                // Long waits stay on a wait handle so Ctrl+C (or new work) is noticed at once; the last ~1 ms is done finely below.
                if (wake is null)
                {
                    if (stop.WaitHandle.WaitOne((int)milliseconds - 1))
                    {
                        return SleepEnd.Stopped;
                    }
                }
                else
                {
                    switch (WaitHandle.WaitAny([stop.WaitHandle, wake], (int)milliseconds - 1))
                    {
                        case 0:
                            return SleepEnd.Stopped;
                        case 1:
                            return SleepEnd.Woken;
                    }
                }
            }
            else if (remaining > SpinThreshold && _nativeAvailable)
            {
                SleepMicroseconds((uint)(remaining * 1_000_000 / Stopwatch.Frequency));
            }
            else if (remaining > SpinThreshold)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.SpinWait(50);
            }
        }
    }

    private static void SleepMicroseconds(uint microseconds)
    {
        try
        {
            // An interrupted sleep (EINTR) returns early, which is harmless: the caller's loop looks at the clock again.
            _ = NativeMethods.USleep(microseconds);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            _nativeAvailable = false;
        }
    }

    private static class NativeMethods
    {
        [DllImport("libc", EntryPoint = "usleep")]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int USleep(uint microseconds);
    }
}
