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

    /// <summary>Null: loadtests/results next to the project.</summary>
    public string? ResultsDirectory { get; init; }

    public bool IsOpenModel => Rate is not null;

    public int EffectiveConnections => Connections ?? (IsOpenModel ? MaxInFlight : Concurrency);
}
