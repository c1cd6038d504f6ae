using System.Collections.Concurrent;
using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace FlashSale.Bench.Persister;

/// <summary>
/// The MySQL round trips one batch took, over both shards, as a benchmark's setup counted them through a
/// <see cref="RoundTripCounter"/>; shown beside the timings of the same run.
/// </summary>
public sealed class RoundTripsColumn : IColumn
{
    private static readonly ConcurrentDictionary<(string Method, int BatchSize), double> Counted = new();

    public static void Record(string method, int batchSize, double perBatch) => Counted[(method, batchSize)] = perBatch;

    public string Id => nameof(RoundTripsColumn);

    public string ColumnName => "RoundTrips/batch";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "MySQL round trips per batch, both shards together, counted by a TCP relay in the benchmark's setup";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var batchSize = Convert.ToInt32(benchmarkCase.Parameters["BatchSize"], CultureInfo.InvariantCulture);
        return Counted.TryGetValue((benchmarkCase.Descriptor.WorkloadMethod.Name, batchSize), out var perBatch)
            ? perBatch.ToString("0.#", CultureInfo.InvariantCulture)
            : "?";
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;

    /// <summary>Adds the column to a benchmark class (<c>[Config(typeof(RoundTripsColumn.Config))]</c>).</summary>
    public sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new RoundTripsColumn());
    }
}
