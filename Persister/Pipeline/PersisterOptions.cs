using System.ComponentModel.DataAnnotations;

namespace FlashSale.Persister.Pipeline;

public sealed class PersisterOptions
{
    public const string Section = "Persister";

    /// <summary>
    /// Where the Persister serves <c>/metrics</c> and <c>/health/*</c>, unless the standard <c>urls</c>
    /// setting (<c>--urls</c>, <c>ASPNETCORE_URLS</c>) is given. Port 0 takes any free port.
    /// </summary>
    [Required]
    [Url]
    public string MetricsUrl { get; set; } = "http://127.0.0.1:5081";

    /// <summary>Events per batch: bigger batches write faster, smaller ones show orders sooner.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 1_000;

    /// <summary>How long a batch waits to fill before it is written anyway.</summary>
    [Range(0, 5_000)]
    public int LingerMs { get; set; } = 20;

    /// <summary>Consumed events buffered ahead of the writer; back-pressure on the consumer beyond it.</summary>
    [Range(1, 1_000_000)]
    public int BufferSize { get; set; } = 20_000;

    public string ConsumerGroup { get; set; } = "flashsale-persister";

    /// <summary>How often expired payment windows are looked for; a unit comes back at most this late.</summary>
    [Range(10, 600_000)]
    public int TimeoutScanIntervalMs { get; set; } = 1_000;

    /// <summary>Orders cancelled (and releases retried) per shard per scan.</summary>
    [Range(1, 10_000)]
    public int TimeoutBatchSize { get; set; } = 500;
}
