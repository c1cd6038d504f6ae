namespace FlashSale.LoadTests.Cli;

/// <summary>
/// One run's settings. <see cref="Rate"/> selects the open model, otherwise
/// <see cref="Concurrency"/> workers loop (closed model). Null sizes mean "the scenario's default".
/// </summary>
public sealed record LoadTestOptions
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    public const int DefaultConcurrency = 32;
    public const int DefaultMaxInFlight = 1000;
    public const int DefaultLagSamplesPerSecond = 20;
    public const int DefaultDrainMax = 20_000;

    public required string Scenario { get; init; }

    public Uri Url { get; init; } = new(DefaultUrl);

    public int? Buyers { get; init; }

    public int? Stock { get; init; }

    /// <summary>Requests per second for the open model; null runs the closed model.</summary>
    public double? Rate { get; init; }

    public int Concurrency { get; init; } = DefaultConcurrency;

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxInFlight { get; init; } = DefaultMaxInFlight;

    /// <summary>Null: as many connections as requests can be in flight, so none waits for a connection.</summary>
    public int? Connections { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Drives the buyer draws, so a run can be repeated with the same buyers in the same order.</summary>
    public ulong Seed { get; init; }

    /// <summary>many-skus: SKUs in the campaign; null means the scenario's default.</summary>
    public int? Skus { get; init; }

    /// <summary>many-skus: Zipf exponent of the SKU draw; 0 spreads traffic evenly.</summary>
    public double Skew { get; init; }

    /// <summary>replay-storm: Idempotency-Keys each buyer sends again and again; null means the scenario's default.</summary>
    public int? KeysPerBuyer { get; init; }

    /// <summary>full-sale: share of the first wave's orders that are paid; null means the scenario's default.</summary>
    public double? PayShare { get; init; }

    /// <summary>full-sale: share of the first wave's orders their buyer cancels; null means the scenario's default.</summary>
    public double? CancelShare { get; init; }

    /// <summary>full-sale: share of payments whose callback the provider sends twice; null means the scenario's default.</summary>
    public double? DuplicateShare { get; init; }

    /// <summary>full-sale: the campaign's payment window in seconds; null means the shortest the admin API accepts.</summary>
    public int? PaymentWindowSeconds { get; init; }

    /// <summary>full-sale: a buyer pays or cancels between a quarter of this and all of it after their 201.</summary>
    public TimeSpan? ThinkTime { get; init; }

    /// <summary>full-sale: how long the second wave sends reservations; null means as long as --duration.</summary>
    public TimeSpan? SecondWave { get; init; }

    /// <summary>full-sale: how long past the last payment deadline to wait for the timeout scan; null means the default.</summary>
    public TimeSpan? SettleTimeout { get; init; }

    /// <summary>Measure the same load against a constant endpoint first, in a child process, and report both side by side.</summary>
    public bool Baseline { get; init; }

    /// <summary>At most this many 201s a second are followed until MySQL has them; 0 turns the lag probe off.</summary>
    public int LagSamplesPerSecond { get; init; } = DefaultLagSamplesPerSecond;

    /// <summary>A sampled order not persisted within this time fails the lag invariant.</summary>
    public TimeSpan LagTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Pause between two reads of the same sampled order: the resolution of each lag.</summary>
    public TimeSpan LagPollInterval { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long the end-of-run drain waits for every success to be persisted.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The drain reads back at most this many successes (a random sample beyond); 0 skips the drain check.</summary>
    public int DrainMax { get; init; } = DefaultDrainMax;

    /// <summary>Null: loadtests/results next to the project.</summary>
    public string? ResultsDirectory { get; init; }

    public bool IsOpenModel => Rate is not null;

    public int EffectiveConnections => Connections ?? (IsOpenModel ? MaxInFlight : Concurrency);
}
