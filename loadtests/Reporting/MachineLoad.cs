namespace FlashSale.LoadTests.Reporting;

/// <summary>
/// The 1/5/15-minute load averages (Linux only). Harness and engine often share a small machine
/// with builds and tests; a report is only comparable with another if this is known.
/// </summary>
public static class MachineLoad
{
    public static string? Read()
    {
        const string LoadAverage = "/proc/loadavg";
        if (!File.Exists(LoadAverage))
        {
            return null;
        }
        var fields = File.ReadAllText(LoadAverage).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 3 ? $"{fields[0]} / {fields[1]} / {fields[2]} (1 / 5 / 15 min)" : null;
    }
}
