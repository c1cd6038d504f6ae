using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Persistence;

/// <summary>How the Persister consumes and batches; the <c>Persister</c> configuration section.</summary>
public sealed class PersistenceOptions
{
    public const string Section = "Persister";

    /// <summary>Events per batch: bigger batches write faster, smaller ones show orders sooner.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 1_000;

    /// <summary>How long a batch waits to fill before it is written anyway.</summary>
    [Range(0, 5_000)]
    public int LingerMs { get; set; } = 20;

    /// <summary>Consumed events buffered ahead of the writer; back-pressure on the consumer beyond it.</summary>
    [Range(1, 1_000_000)]
    public int BufferSize { get; set; } = 20_000;

    /// <summary>
    /// How often the shards' counter deltas are moved into the catalog's counters: one application per
    /// interval however many batches wrote meanwhile. The counters trail the orders by up to this much.
    /// </summary>
    [Range(10, 60_000)]
    public int CounterIntervalMs { get; set; } = 1_000;

    public string ConsumerGroup { get; set; } = "flashsale-persister";
}
