using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.LoadTests;

/// <summary>
/// The load-test harness (loadtests/), run from its build output as a child process against a whole
/// engine of its own (Ingress and Persister processes on the real services), each scenario briefly and
/// gently: every invariant must pass, and the report must be written. A broken scenario, a harness that
/// no longer talks the engine's API, or an engine change that breaks a promise the harness checks fails here.
/// </summary>
/// <remarks>
/// In the pipeline collection like every other user of <see cref="PipelineFixture"/>: there are eight Redis
/// scopes for engine fixtures (<see cref="RedisIsolation"/>), so more at once would wait for each other; and
/// two engines at once on a small machine would each measure the other.
/// </remarks>
[Collection(PipelineCollection.Name)]
[Trait("Category", "Slow")]
public sealed class LoadTestHarnessTests(PipelineFixture engine) : IClassFixture<PipelineFixture>
{
    /// <summary>Every run checks these (the lag probe, the drain and the ledger included); names as the report prints them.</summary>
    private static readonly string[] CommonInvariants =
    [
        "distinct order numbers",
        "every sampled order reached MySQL within",
        "pipeline drained: every success is in MySQL",
        "one order per success",
        "persisted orders ≤ stock",
    ];

    private static readonly string[] SingleSkuInvariants =
    [
        "no oversell (SKU 1)",
        "stock conservation (SKU 1)",
        "ledger: no drift, nothing in flight (SKU 1)",
    ];

    private static readonly TimeSpan HarnessTimeout = TimeSpan.FromMinutes(3);

    [Fact]
    [Trait("Cluster", "yes")]
    public async Task HotSkuSellsItsStockAndPassesEveryInvariant()
    {
        var markdown = await RunAsync("hot-sku", "--stock", "60", "--buyers", "2000", "--rate", "150", "--duration", "2s");
        AssertPassed(markdown, [.. CommonInvariants, .. SingleSkuInvariants]);
    }

    /// <summary>Two Ingress processes (as dev/up.sh --ingress 2 runs them), the buyers spread over both by --target.</summary>
    [Fact]
    [Trait("Cluster", "yes")]
    public async Task HotSkuSpreadOverTwoIngressesPassesEveryInvariantAndReachesBoth()
    {
        await using var second = EngineProcess.Listening("Ingress-3", "Ingress", engine.Environment(("Engine__NodeId", "3")));
        await second.StartAsync();

        var markdown = await RunAsync("hot-sku", "--stock", "60", "--buyers", "2000", "--rate", "150", "--duration", "2s",
            "--target", engine.IngressUrl.ToString(), "--target", second.Url.ToString());

        AssertPassed(markdown, [.. CommonInvariants, .. SingleSkuInvariants]);
        Assert.Contains($"against {engine.IngressUrl}, {second.Url}", markdown, StringComparison.Ordinal);
        var spread = TableRows(markdown, "## Parameters").Single(r => r[0] == "Ingresses (reservations sent to each)")[1];
        var counts = System.Text.RegularExpressions.Regex.Matches(spread, @": ([\d,]+) \(").Select(m => Number(m.Groups[1].Value)).ToList();
        Assert.Equal(2, counts.Count);
        Assert.All(counts, c => Assert.True(c > 0, spread));
    }

    [Fact]
    [Trait("Cluster", "yes")]
    public async Task ManySkusPassesEveryInvariantOnEachSku()
    {
        var markdown = await RunAsync("many-skus", "--skus", "5", "--skew", "1", "--stock", "15", "--buyers", "2000", "--rate", "150", "--duration", "2s");
        AssertPassed(markdown, [.. CommonInvariants, "no oversell (5 SKUs)", "stock conservation (5 SKUs)", "ledger: no drift, nothing in flight (5 SKUs)"]);
    }

    [Fact]
    public async Task SoldOutFloodPassesEveryInvariantAndIsComparedWithTheConstantEndpoint()
    {
        var markdown = await RunAsync("sold-out-flood", "--stock", "20", "--buyers", "2000", "--rate", "200", "--duration", "2s", "--baseline");
        AssertPassed(markdown, [.. CommonInvariants, .. SingleSkuInvariants]);
        Assert.Contains("## Against a constant endpoint", markdown, StringComparison.Ordinal);
        Assert.Contains("| p99 ms, sold-out |", markdown, StringComparison.Ordinal);
        Assert.Contains("| answers/s, all |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReplayStormReturnsEveryKeysFirstOrder()
    {
        var markdown = await RunAsync("replay-storm", "--buyers", "60", "--rate", "150", "--duration", "2s");
        AssertPassed(markdown,
        [
            .. CommonInvariants, .. SingleSkuInvariants,
            "replays return the first order", "at most one 201 per key", "a key holding an order is never refused",
            "successful keys ≤ stock", "every replay says Idempotent-Replayed",
        ]);
    }

    /// <summary>The longest: the first wave's unpaid orders must reach the end of the 30 s payment window (the shortest allowed).</summary>
    [Fact]
    public async Task FullSalePaysCancelsTimesOutAndSellsReleasedUnitsAgain()
    {
        var markdown = await RunAsync("full-sale",
            "--stock", "24", "--buyers", "2000", "--rate", "100", "--duration", "2s", "--second-wave", "2s", "--settle-timeout", "30s",
            "--duplicate-callbacks", "0.5");
        AssertPassed(markdown,
        [
            .. CommonInvariants, .. SingleSkuInvariants,
            "every order ends Paid or Cancelled", "paid ≤ stock (SKU 1)", "cancelled and timed-out units came back (SKU 1)",
            "every paid order's payment recorded once",
            "released units were sold again", "paid + pending never exceeded stock (SKU 1)", "payments and cancels answered as sent",
            // A share of the attempts took the sale's coupon (default 0.3; a pool of a quarter of the stock).
            "coupons exact (pool lt-coupon of 6)",
        ]);
        Assert.Contains("| pay (duplicate) | applied |", markdown, StringComparison.Ordinal);
        Assert.Contains("| coupon-unavailable |", markdown, StringComparison.Ordinal);
        Assert.Contains("## Sale lifecycle", markdown, StringComparison.Ordinal);
    }

    /// <summary>
    /// A campaign with a tight limit of its own (--rate-limits) and few buyers: most requests are refused 429, and the
    /// harness counts them as refusals, not as errors or unknown outcomes; every invariant still holds.
    /// </summary>
    [Fact]
    public async Task RateLimitedAnswersAreCountedAsRefusals()
    {
        var markdown = await RunAsync("hot-sku", "--stock", "60", "--buyers", "5", "--rate", "150", "--duration", "2s",
            "--rate-limits", """{"perBuyer":{"permitsPerSecond":1,"burst":2}}""");
        AssertPassed(markdown, [.. CommonInvariants, .. SingleSkuInvariants]);

        var outcomes = TableRows(markdown, "## Outcomes and latency");
        var all = Number(outcomes.Single(r => r[0] == "all")[1]);
        var limited = Number(outcomes.Single(r => r[0] == "rate-limited")[1]);
        var created = Number(outcomes.Single(r => r[0] == "created")[1]);
        // Five buyers, a burst of 2 and one token a second each: at most 5 × (2 + 3) requests get past the limit.
        Assert.InRange(created, 1, 5);
        Assert.True(limited >= all - 25, $"{limited} of {all} rate-limited");
        Assert.DoesNotContain(outcomes, r => r[0] is "5xx" or "other-4xx" or "unexpected");
    }

    /// <summary>A small crowd (20x a stock of 15) joins a waiting room before the start, polls, and buys when admitted.</summary>
    [Fact]
    public async Task WaitingRoomAdmitsInJoinOrderAndTellsEveryWaitingBuyerItSoldOut()
    {
        var markdown = await RunAsync("waiting-room", "--stock", "15", "--lead", "6s", "--duration", "15s");
        AssertPassed(markdown,
        [
            .. CommonInvariants, .. SingleSkuInvariants,
            "the stock sold exactly", "admitted in join order", "every waiting buyer learned the sale was over",
        ]);
        Assert.Contains("## Waiting room", markdown, StringComparison.Ordinal);
        var rows = TableRows(markdown, "## Waiting room");
        Assert.Equal(300 - Number(rows.Single(r => r[0] == "from the start to admission")[1]),
            Number(rows.Single(r => r[0] == "from the sell-out to learning it (never admitted)")[1]));
    }

    /// <summary>The same run through .NET's HttpClient, which the harness keeps beside its own HTTP/1.1 client.</summary>
    [Fact]
    public async Task HotSkuThroughHttpClientPassesEveryInvariant()
    {
        var markdown = await RunAsync("hot-sku", "--stock", "60", "--buyers", "2000", "--rate", "150", "--duration", "2s", "--http-client");
        AssertPassed(markdown, [.. CommonInvariants, .. SingleSkuInvariants]);
    }

    /// <summary>
    /// A short soak (loadtests/soak.sh's flags): the windows hold every answer of the run, and the engine's memory is sampled.
    /// Windows of one second make each window's created/s its count of 201s.
    /// </summary>
    [Fact]
    public async Task WindowsAddUpToTheRunAndTheEnginesMemoryIsSampled()
    {
        var markdown = await RunAsync("hot-sku",
            "--stock", "1000", "--buyers", "500", "--buyers-in-turn", "--rate", "150", "--duration", "3s", "--window", "1s", "--redis", TestEnvironment.Redis);
        AssertPassed(markdown, [.. CommonInvariants, .. SingleSkuInvariants]);

        var outcomes = TableRows(markdown, "## Outcomes and latency");
        var all = Number(outcomes.Single(r => r[0] == "all")[1]);
        var created = Number(outcomes.Single(r => r[0] == "created")[1]);
        Assert.Equal(all, created);
        var windows = TableRows(markdown, "## Windows");
        Assert.Equal(3, windows.Count);
        Assert.Equal(all, windows.Sum(w => Number(w[2])));
        Assert.Equal(created, windows.Sum(w => Number(w[3])));

        var memory = TableRows(markdown, "### Engine memory");
        Assert.Equal(["start", "window 1 end", "window 2 end", "end of load", "after the drain"], memory.Select(r => r[0]));
        Assert.All(memory, r => Assert.Matches(@"^\d+\.\d$", r[2]));
        Assert.All(memory, r => Assert.Matches(@"^\d+\.\d$", r[3]));
        Assert.Equal(created, Number(memory.Single(r => r[0] == "end of load")[4]));
        Assert.Matches(@"- Ingress RSS last window vs second window: [+-]?\d+\.\d %", markdown);
        Assert.Matches(@"- Redis bytes per reservation: -?[\d,]+ \(used_memory", markdown);
        Assert.Matches(@"- Worst window p99 \(all answers\): \d+\.\d\d ms", markdown);
    }

    [Fact]
    public async Task ClientOverheadGetsA201ForEveryRequestToTheConstantEndpoint()
    {
        var run = await ToolProcess.RunAsync(
            ToolProcess.Dll("loadtests", "FlashSale.LoadTests.dll"), ["client-overhead", "--concurrency", "8", "--duration", "1s"],
            new Dictionary<string, string>(), HarnessTimeout);

        Assert.True(run.ExitCode == 0, $"the harness exited with {run.ExitCode}:\n{run.Stdout}\n{run.Stderr}");
        var result = run.Stdout.Split('\n').Single(l => l.StartsWith("HARNESS_RESULT ", StringComparison.Ordinal));
        var answers = long.Parse(result.Split(' ').Single(f => f.StartsWith("answers=", StringComparison.Ordinal))["answers=".Length..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(answers > 0, result);
    }

    [Fact]
    public async Task TokensCommandMintsTokensTheIngressAccepts()
    {
        var run = await ToolProcess.RunAsync(
            ToolProcess.Dll("loadtests", "FlashSale.LoadTests.dll"), ["tokens", "--buyers", "3", "--first", "77"],
            new Dictionary<string, string> { ["FLASHSALE_SIGNING_KEY"] = TestEnvironment.SigningKey }, HarnessTimeout);

        Assert.True(run.ExitCode == 0, $"the harness exited with {run.ExitCode}:\n{run.Stderr}");
        var tokens = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(3, tokens.Distinct().Count());
        using var client = new HttpClient { BaseAddress = engine.IngressUrl };
        foreach (var token in tokens)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/orders?limit=1");
            request.Headers.TryAddWithoutValidation("Authorization", token);
            using var response = await client.SendAsync(request);
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }
    }

    private static void AssertPassed(string markdown, IEnumerable<string> invariants)
    {
        Assert.Contains("Result: **all invariants passed**", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("**FAIL**", markdown, StringComparison.Ordinal);
        foreach (var invariant in invariants)
        {
            Assert.Contains($"- **PASS** {invariant}", markdown, StringComparison.Ordinal);
        }
    }

    /// <summary>The body rows of the first Markdown table after <paramref name="heading"/>, cells trimmed.</summary>
    private static List<string[]> TableRows(string markdown, string heading)
    {
        var lines = markdown[markdown.IndexOf(heading + "\n", StringComparison.Ordinal)..].Split('\n');
        return
        [
            .. lines.SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|')).Skip(2)
                .Select(l => l.Trim('|').Split('|').Select(c => c.Trim()).ToArray()),
        ];
    }

    private static long Number(string cell) => long.Parse(cell, System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Runs the harness to the end; returns its report.md after checking the exit code and both report files.</summary>
    private async Task<string> RunAsync(string scenario, params string[] arguments)
    {
        var harness = ToolProcess.Dll("loadtests", "FlashSale.LoadTests.dll");
        // Kept after the run for a look (TestResults/ is git-ignored and emptied by the next dev/test.sh).
        var results = Path.Combine(Repository.Root, "TestResults", "loadtests", $"{scenario}-{Guid.NewGuid():N}");
        // The fixture's Ingress has the test keys, not the development ones the harness defaults to.
        var run = await ToolProcess.RunAsync(
            harness,
            [scenario, .. arguments, "--url", engine.IngressUrl.ToString(), "--seed", "20260618", "--out", results],
            new Dictionary<string, string> { ["FLASHSALE_SIGNING_KEY"] = TestEnvironment.SigningKey, ["FLASHSALE_PAYMENT_SECRET"] = IngressFactory.PaymentSecret },
            HarnessTimeout);
        var output = run.Output;
        Assert.True(run.ExitCode == 0, $"the harness exited with {run.ExitCode}:\n{output}");

        var folders = Directory.GetDirectories(results, $"*-{scenario}");
        Assert.True(folders.Length == 1, $"expected one report folder in {results}:\n{output}");
        var markdownFile = Path.Combine(folders[0], "report.md");
        var htmlFile = Path.Combine(folders[0], "report.html");
        Assert.True(File.Exists(markdownFile), $"no report.md in {folders[0]}");
        Assert.True(File.Exists(htmlFile), $"no report.html in {folders[0]}");
        var html = await File.ReadAllTextAsync(htmlFile);
        Assert.Contains("all invariants passed", html, StringComparison.Ordinal);
        Assert.Contains("<svg", html, StringComparison.Ordinal);
        Assert.Contains(markdownFile, run.Stdout, StringComparison.Ordinal);
        return await File.ReadAllTextAsync(markdownFile);
    }
}
