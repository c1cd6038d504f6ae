using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using StackExchange.Redis;

namespace FlashSale.Bench.Infrastructure;

/// <summary>
/// The CPU each Redis master spent during a benchmark case (<c>INFO cpu</c>: <c>used_cpu_sys</c> + <c>used_cpu_user</c>,
/// read before the case's first invocation and after its last), per operation the case made, warm-up and pilot
/// invocations included on both sides of the division. Reported by <see cref="RedisCpuColumn"/>: with the benchmarks in
/// process, the case records here and the summary reads it back.
/// </summary>
public static class RedisCpu
{
    private static readonly ConcurrentDictionary<string, string> Recorded = new();

    /// <summary>Every master's used CPU (sys + user, seconds), by endpoint, in endpoint order.</summary>
    public static async Task<SortedDictionary<string, double>> ReadAsync(IConnectionMultiplexer redis)
    {
        var used = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var server in redis.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            // ExecuteAsync rather than IServer.Info, which StackExchange.Redis keeps for admin connections (as RedisTopology does).
            var info = (string?)await server.ExecuteAsync("INFO", "cpu") ?? "";
            var cpu = info.Split('\n').Select(l => l.Trim().Split(':')).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1], StringComparer.Ordinal);
            used[server.EndPoint.ToString()!] = double.Parse(cpu["used_cpu_sys"], CultureInfo.InvariantCulture)
                + double.Parse(cpu["used_cpu_user"], CultureInfo.InvariantCulture);
        }
        return used;
    }

    /// <summary>Records a case's Redis CPU per operation, each master's µs and their share, e.g. <c>6380: 9.1 (100%)</c>.</summary>
    public static void Record(string caseKey, SortedDictionary<string, double> before, SortedDictionary<string, double> after, long operations, IReadOnlyCollection<string> bucketMasters)
    {
        var spent = after.ToDictionary(a => a.Key, a => a.Value - before.GetValueOrDefault(a.Key), StringComparer.Ordinal);
        var total = spent.Values.Sum();
        var perMaster = spent.Select(s =>
        {
            var port = s.Key[(s.Key.LastIndexOf(':') + 1)..];
            var mark = bucketMasters.Contains(s.Key) ? "*" : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"{port}{mark}: {s.Value * 1e6 / Math.Max(1, operations):0.0} ({(total > 0 ? s.Value / total : 0):P0})");
        });
        Recorded[caseKey] = string.Create(CultureInfo.InvariantCulture,
            $"{total * 1e6 / Math.Max(1, operations):0.0} = {string.Join(" + ", perMaster)}");
    }

    public static string? Get(string caseKey) => Recorded.GetValueOrDefault(caseKey);
}

/// <summary>The column "Redis CPU µs/op": all masters, then each master's share (<c>*</c>: it holds one of the SKU's buckets).</summary>
public sealed class RedisCpuColumn(Func<BenchmarkCase, string> caseKey) : IColumn
{
    public string Id => nameof(RedisCpuColumn);

    public string ColumnName => "Redis CPU us/op (per master; * holds a bucket)";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => false;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Redis CPU (INFO cpu: used_cpu_sys + used_cpu_user) per reservation, every master together and each master";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => RedisCpu.Get(caseKey(benchmarkCase)) ?? "-";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
