using System.Text.Json;
using System.Text.Json.Serialization;
using FlashSale.Engine.Redis;
using StackExchange.Redis;

namespace FlashSale.Engine.Reconciliation;

/// <summary>
/// The reconciler's last round, as the leaseholder that ran it saw it: the campaigns and SKUs it checked, the drift left after
/// its repairs, the drift of each SKU that has any, and its first findings. Kept in Redis (<see cref="RedisKeyspace.ReconcilerReport"/>)
/// for the operator console, which shows drift from where it is found rather than walking ledgers itself.
/// </summary>
public sealed record ReconcilerReport(
    DateTimeOffset At,
    IReadOnlyList<string> Campaigns,
    int Skus,
    long Drift,
    IReadOnlyList<ReconcilerReport.SkuDrift> Drifting,
    IReadOnlyList<ReconcilerReport.Finding> Findings)
{
    public const int MaxFindings = 20;
    public const int MaxDrifting = 500;

    public sealed record SkuDrift(string CampaignId, long SkuId, long Drift);

    public sealed record Finding(string CampaignId, long SkuId, string Kind, long OrderNo, int Units);

    public static ReconcilerReport Of(DateTimeOffset at, IReadOnlyList<string> campaigns, IReadOnlyList<SkuLedger> ledgers) => new(
        at,
        campaigns,
        ledgers.Count,
        ledgers.Sum(l => l.Drift),
        [.. ledgers.Where(l => l.Drift != 0).Take(MaxDrifting).Select(l => new SkuDrift(l.CampaignId, l.SkuId, l.Drift))],
        [.. ledgers.SelectMany(l => l.Findings.Select(f => new Finding(l.CampaignId, l.SkuId, f.Kind, f.OrderNo, f.Units))).Take(MaxFindings)]);

    /// <summary>Writes the report; it expires after <paramref name="ttl"/>, so a reconciler that stopped leaves no stale one behind.</summary>
    public Task WriteAsync(IDatabaseAsync db, TimeSpan ttl)
        => db.StringSetAsync(RedisKeyspace.ReconcilerReport, JsonSerializer.Serialize(this, ReconcilerReportJson.Default.ReconcilerReport), ttl);

    /// <summary>The last report, or null when there is none (no reconciler ran lately) or it does not parse.</summary>
    public static async Task<ReconcilerReport?> ReadAsync(IDatabaseAsync db)
    {
        var value = await db.StringGetAsync(RedisKeyspace.ReconcilerReport);
        if (value.IsNullOrEmpty)
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(value.ToString(), ReconcilerReportJson.Default.ReconcilerReport);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ReconcilerReport))]
internal sealed partial class ReconcilerReportJson : JsonSerializerContext;
