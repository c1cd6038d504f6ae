using System.Diagnostics.Metrics;
using FlashSale.Engine.Live;
using FlashSale.Engine.Telemetry;

namespace FlashSale.Engine.Admission;

/// <summary>The waiting rooms: tickets handed out and admitted, tokens used, reservations refused for want of one.</summary>
public sealed class AdmissionMetrics(IMeterFactory meterFactory)
{
    private static readonly KeyValuePair<string, object?> Missing = EngineTelemetry.Tag("reason", "missing");
    private static readonly KeyValuePair<string, object?> Invalid = EngineTelemetry.Tag("reason", "invalid");
    private static readonly KeyValuePair<string, object?> Expired = EngineTelemetry.Tag("reason", "expired");
    private static readonly KeyValuePair<string, object?> Lapsed = EngineTelemetry.Tag("reason", "lapsed");

    private readonly Counter<long> _joined = meterFactory.Meter().CreateCounter<long>("flashsale.admission.joined", "{ticket}",
        "New waiting-room tickets (a buyer asking again for the ticket they hold is not counted).");

    private readonly Counter<long> _admitted = meterFactory.Meter().CreateCounter<long>("flashsale.admission.admitted", "{ticket}",
        "Waiting-room tickets admitted by this process's admitting loop, in waves.");

    private readonly Counter<long> _used = meterFactory.Meter().CreateCounter<long>("flashsale.admission.used", "{token}",
        "Admission tokens counted as used (their reservation was created), which frees their slot for the next ticket.");

    private readonly Counter<long> _refused = meterFactory.Meter().CreateCounter<long>(LiveCounters.AdmissionRefusedInstrument, "{request}",
        "Reservations refused 403 admission-required, by reason: missing, invalid (malformed or another buyer's), expired, lapsed (withdrawn at a sell-out).");

    public void Joined() => _joined.Add(1);

    public void Admitted(long tickets) => _admitted.Add(tickets);

    public void Used(long tokens) => _used.Add(tokens);

    public void Refused(TokenCheck check, bool lapsed) => _refused.Add(1, lapsed ? Lapsed : check switch
    {
        TokenCheck.Missing => Missing,
        TokenCheck.Expired => Expired,
        _ => Invalid,
    });
}
