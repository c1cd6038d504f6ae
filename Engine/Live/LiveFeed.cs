using System.Globalization;
using System.Runtime.CompilerServices;
using Confluent.Kafka;
using FlashSale.Engine.Campaigns;
using FlashSale.Engine.Reconciliation;
using FlashSale.Engine.Redis;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MySqlConnector;
using StackExchange.Redis;

namespace FlashSale.Engine.Live;

/// <summary>
/// The operator console's live view, built once a second while at least one console watches and shared by all of them, so
/// ten consoles cost what one does. Every figure is the whole deployment's and read where it lives, never by walking a ledger:
/// <list type="bullet">
/// <item>rates and latency from the second's shared counters every Ingress adds to (<see cref="LivePublisher"/>; one HGETALL);</item>
/// <item>each live SKU from its meta hash (one HMGET) and its outbox's length (one XLEN), pipelined;</item>
/// <item>the Kafka → MySQL backlog from the Persisters' committed offsets against the topic's ends (<see cref="KafkaCatchUp"/>);</item>
/// <item>drift and findings from the reconciler's last round (<see cref="ReconcilerReport"/>); fenced SKUs from their meta.</item>
/// </list>
/// Updates are built half a second into each second, when every Ingress has added the second before.
/// </summary>
public sealed partial class LiveFeed(
    IDatabase redis,
    CampaignStore campaigns,
    IOptions<ReconcilerOptions> reconciler,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<LiveFeed> logger,
    KafkaCatchUp? kafka = null)
{
    /// <summary>The SKUs one update shows at most (two Redis commands each a second); the rest are left out and the update says so.</summary>
    public const int MaxSkus = 500;

    /// <summary>The seconds the latency percentiles span.</summary>
    public const int LatencyWindowSeconds = 5;

    private static readonly TimeSpan BuildOffset = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan CampaignRefresh = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan KafkaWait = TimeSpan.FromMilliseconds(300);

    private static readonly RedisValue[] SkuFields =
        [MetaFields.Total, MetaFields.Available, MetaFields.Reserved, MetaFields.Sold, MetaFields.Starts, MetaFields.Ends, MetaFields.Fenced];

    private readonly Lock _lock = new();
    // The next update, and with it the one after: a watcher that was slow to take one still gets every update after it.
    private TaskCompletionSource<Published> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private LiveUpdate? _latest;
    private int _watchers;
    private bool _running;

    // Only the loop touches these.
    private readonly Queue<(long Second, long[] Buckets)> _latencies = new();
    private readonly Dictionary<string, CampaignDefinition> _definitions = new(StringComparer.Ordinal);
    private IReadOnlyList<CampaignDefinition> _shown = [];
    private long _campaignsReadAt = long.MinValue;
    private Task<long>? _kafkaLag;
    private long? _lastKafkaLag;

    /// <summary>Consoles watching now.</summary>
    public int Watchers => Volatile.Read(ref _watchers);

    /// <summary>The updates from now on, one a second, until <paramref name="cancellationToken"/> or the host stops.</summary>
    public async IAsyncEnumerable<LiveUpdate> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        Task<Published> next;
        LiveUpdate? latest;
        lock (_lock)
        {
            _watchers++;
            if (!_running)
            {
                _running = true;
                _ = Task.Run(LoopAsync, CancellationToken.None);
            }
            next = _next.Task;
            latest = _latest;
        }
        try
        {
            // A console that just connected sees the last update at once instead of a blank page for up to a second.
            if (latest is not null && time.GetUtcNow() - latest.At < TimeSpan.FromSeconds(2))
            {
                yield return latest;
            }
            while (true)
            {
                Published published;
                try
                {
                    published = await next.WaitAsync(stop.Token);
                }
                catch (OperationCanceledException)
                {
                    yield break;
                }
                next = published.Following;
                yield return published.Update;
            }
        }
        finally
        {
            lock (_lock)
            {
                _watchers--;
            }
        }
    }

    private async Task LoopAsync()
    {
        var stopping = lifetime.ApplicationStopping;
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                await Task.Delay(LivePublisher.UntilNext(time.GetUtcNow(), BuildOffset), time, stopping);
                lock (_lock)
                {
                    if (_watchers == 0)
                    {
                        _running = false;
                        return;
                    }
                }
                LiveUpdate update;
                try
                {
                    update = await BuildAsync(stopping);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Whatever went wrong, the consoles hear of it and the loop goes on: a dead loop would leave them waiting.
                    LogFailed(logger, ex);
                    var now = time.GetUtcNow();
                    update = new LiveUpdate(now.UtcDateTime, now.ToUnixTimeSeconds() - 1, new Dictionary<string, long>(), 0, LatencyWindowSeconds,
                        0, null, null, 0, null, null, 0, false, "The live view could not be built: " + ex.GetType().Name, []);
                }
                lock (_lock)
                {
                    _latest = update;
                    var done = _next;
                    _next = new TaskCompletionSource<Published>(TaskCreationOptions.RunContinuationsAsynchronously);
                    done.SetResult(new Published(update, _next.Task));
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_lock)
            {
                // The loop ends only when nobody watches (set above) or the host stops: a watcher arriving later starts it again.
                _running = false;
            }
        }
    }

    /// <summary>One update as of now. A backing service that does not answer leaves its part empty and names itself in <c>Error</c>.</summary>
    public async Task<LiveUpdate> BuildAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var second = now.ToUnixTimeSeconds() - 1;
        var kafkaLag = KafkaLag();
        try
        {
            var db = redis;
            var shown = await CampaignsAsync(now, cancellationToken);
            var counts = db.HashGetAllAsync(RedisKeyspace.LiveSecond(second));
            var report = ReconcilerReport.ReadAsync(db);
            var skuReads = shown.Select(c => c.Skus.Select(s => ReadSkuAsync(db, c.CampaignId, s)).ToList()).ToList();

            var (outcomes, reporting, buckets) = Parse(await counts);
            _latencies.Enqueue((second, buckets));
            while (_latencies.Count > 0 && _latencies.Peek().Second <= second - LatencyWindowSeconds)
            {
                _latencies.Dequeue();
            }
            var window = new long[LatencyBuckets.Count];
            foreach (var (_, seconds) in _latencies)
            {
                for (var i = 0; i < window.Length; i++)
                {
                    window[i] += seconds[i];
                }
            }

            var last = await report;
            var drifts = last?.Drifting.ToDictionary(d => (d.CampaignId, d.SkuId), d => d.Drift) ?? [];
            var checkedCampaigns = last?.Campaigns.ToHashSet(StringComparer.Ordinal) ?? [];
            var nowMs = now.ToUnixTimeMilliseconds();
            var views = new List<LiveCampaignView>(shown.Count);
            long outbox = 0;
            var fenced = 0;
            for (var c = 0; c < shown.Count; c++)
            {
                var campaign = shown[c];
                var skus = new List<LiveSkuView>(campaign.Skus.Count);
                foreach (var read in skuReads[c])
                {
                    var (sku, meta, length) = await read;
                    outbox += length;
                    long? drift = drifts.TryGetValue((campaign.CampaignId, sku.SkuId), out var d) ? d
                        : checkedCampaigns.Contains(campaign.CampaignId) ? 0 : null;
                    if (meta[0].IsNull)
                    {
                        skus.Add(new LiveSkuView(sku.SkuId, sku.Stock, 0, 0, 0, SkuState.NotWarmed, length, drift));
                        continue;
                    }
                    var available = (int)meta[1];
                    var state = meta[6].IsNull ? StockService.StateAt(nowMs, (long)meta[4], (long)meta[5], available) : SkuState.Recovering;
                    if (state == SkuState.Recovering)
                    {
                        fenced++;
                    }
                    skus.Add(new LiveSkuView(sku.SkuId, (int)meta[0], available, meta[2].IsNull ? 0 : (long)meta[2],
                        meta[3].IsNull ? 0 : (long)meta[3], state, length, drift));
                }
                views.Add(new LiveCampaignView(campaign.CampaignId, campaign.StartsAt.UtcDateTime, campaign.EndsAt.UtcDateTime, skus));
            }

            var samples = window.Sum();
            return new LiveUpdate(now.UtcDateTime, second, outcomes, reporting, LatencyWindowSeconds, samples,
                Round(LatencyBuckets.Quantile(window, 0.5)), Round(LatencyBuckets.Quantile(window, 0.99)),
                outbox, await kafkaLag, ToView(last), fenced, Truncated(shown), null, views);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or MySqlException)
        {
            LogFailed(logger, ex);
            return new LiveUpdate(now.UtcDateTime, second, new Dictionary<string, long>(), 0, LatencyWindowSeconds, 0, null, null, 0,
                await kafkaLag, null, 0, false, "Redis or MySQL did not answer: " + ex.GetType().Name, []);
        }
    }

    /// <summary>The Kafka backlog: a fresh figure when the query answers quickly, else the last one while it goes on.</summary>
    private async Task<long?> KafkaLag()
    {
        if (kafka is null)
        {
            return null;
        }
        if (_kafkaLag is null || _kafkaLag.IsCompleted)
        {
            if (_kafkaLag is { IsCompletedSuccessfully: true } done)
            {
                _lastKafkaLag = done.Result;
            }
            else if (_kafkaLag is { IsFaulted: true } failed)
            {
                LogKafkaFailed(logger, failed.Exception.GetBaseException());
                _lastKafkaLag = null;
            }
            _kafkaLag = kafka.LagAsync(lifetime.ApplicationStopping);
        }
        var query = _kafkaLag;
        try
        {
            if (await Task.WhenAny(query, Task.Delay(KafkaWait, time)) == query)
            {
                _lastKafkaLag = await query;
                return _lastKafkaLag;
            }
        }
        catch (Exception ex) when (ex is KafkaException or TimeoutException or InvalidOperationException)
        {
            LogKafkaFailed(logger, ex);
            _lastKafkaLag = null;
        }
        return _lastKafkaLag;
    }

    /// <summary>The campaigns the reconciler looks after (not ended, or ended within its look-back), with at most <see cref="MaxSkus"/> SKUs in all.</summary>
    private async Task<IReadOnlyList<CampaignDefinition>> CampaignsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (time.GetElapsedTime(_campaignsReadAt) < CampaignRefresh && _campaignsReadAt != long.MinValue)
        {
            return Capped(_shown);
        }
        var ids = await campaigns.ListEndingAfterAsync(now - TimeSpan.FromHours(reconciler.Value.LookbackHours), cancellationToken);
        var list = new List<CampaignDefinition>(ids.Count);
        foreach (var id in ids)
        {
            // Definitions never change once created: each is read once.
            if (!_definitions.TryGetValue(id, out var definition))
            {
                definition = await campaigns.GetAsync(id, cancellationToken);
                if (definition is null)
                {
                    continue;
                }
                _definitions[id] = definition;
            }
            list.Add(definition);
        }
        // The latest to start first: when there are more SKUs than the view shows, the ones left out are the oldest campaigns'.
        list.Sort((a, b) => b.StartsAt.CompareTo(a.StartsAt));
        _shown = list;
        _campaignsReadAt = time.GetTimestamp();
        return Capped(list);
    }

    private static List<CampaignDefinition> Capped(IReadOnlyList<CampaignDefinition> all)
    {
        var capped = new List<CampaignDefinition>(all.Count);
        var room = MaxSkus;
        foreach (var campaign in all)
        {
            if (room <= 0)
            {
                break;
            }
            capped.Add(campaign.Skus.Count <= room ? campaign : campaign with { Skus = [.. campaign.Skus.Take(room)] });
            room -= campaign.Skus.Count;
        }
        return capped;
    }

    private bool Truncated(IReadOnlyList<CampaignDefinition> shown)
        => shown.Sum(c => c.Skus.Count) < _shown.Sum(c => c.Skus.Count);

    /// <summary>A SKU's meta fields (<see cref="SkuFields"/>) and outbox length; a SKU split into buckets summed into one (its whole stock, every bucket's units, fenced if any is).</summary>
    private static async Task<(CampaignSku Sku, RedisValue[] Meta, long Outbox)> ReadSkuAsync(IDatabaseAsync db, string campaignId, CampaignSku sku)
    {
        var buckets = new SkuKeys(campaignId, sku.SkuId).AllBuckets(sku.Buckets);
        var metas = buckets.Select(b => db.HashGetAsync(b.Meta, SkuFields)).ToArray();
        var outboxes = buckets.Select(b => db.StreamLengthAsync(b.Outbox)).ToArray();
        var meta = await metas[0];
        var outbox = await outboxes[0];
        if (buckets.Length == 1 || meta[0].IsNull)
        {
            return (sku, meta, outbox);
        }
        var all = await Task.WhenAll(metas);
        static long Sum(RedisValue[][] all, int field) => all.Sum(m => m[field].IsNull ? 0 : (long)m[field]);
        RedisValue[] combined = [sku.Stock, Sum(all, 1), Sum(all, 2), Sum(all, 3), meta[4], meta[5],
            all.Select(m => m[6]).FirstOrDefault(f => !f.IsNull)];
        return (sku, combined, (await Task.WhenAll(outboxes)).Sum());
    }

    private static (Dictionary<string, long> Outcomes, int Reporting, long[] Buckets) Parse(HashEntry[] entries)
    {
        var outcomes = new Dictionary<string, long>(StringComparer.Ordinal);
        var buckets = new long[LatencyBuckets.Count];
        var reporting = 0;
        foreach (var entry in entries)
        {
            var field = entry.Name.ToString();
            if (!entry.Value.TryParse(out long count))
            {
                continue;
            }
            if (field.StartsWith(LiveFields.OutcomePrefix, StringComparison.Ordinal))
            {
                outcomes[field[LiveFields.OutcomePrefix.Length..]] = count;
            }
            else if (field.StartsWith(LiveFields.LatencyPrefix, StringComparison.Ordinal)
                && int.TryParse(field.AsSpan(LiveFields.LatencyPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var bucket)
                && bucket < buckets.Length)
            {
                buckets[bucket] = count;
            }
            else if (field == LiveFields.Reporting)
            {
                reporting = (int)count;
            }
        }
        return (outcomes, reporting, buckets);
    }

    private static LiveReconcilerView? ToView(ReconcilerReport? report) => report is null ? null : new LiveReconcilerView(
        report.At.UtcDateTime, report.Skus, report.Drift,
        [.. report.Findings.Select(f => new LiveFindingView(f.CampaignId, f.SkuId, f.Kind,
            f.OrderNo == 0 ? null : f.OrderNo.ToString(CultureInfo.InvariantCulture), f.Units))]);

    private static double? Round(double? ms) => ms is { } value ? Math.Round(value, 2) : null;

    private sealed record Published(LiveUpdate Update, Task<Published> Following);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Live view: a backing service did not answer; the update says so")]
    private static partial void LogFailed(ILogger logger, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Live view: Kafka's offsets could not be read")]
    private static partial void LogKafkaFailed(ILogger logger, Exception exception);
}
