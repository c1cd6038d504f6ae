using System.Text.Json.Serialization;

namespace FlashSale.Contracts;

/// <summary>How a campaign lets buyers reach its SKUs: <c>open</c> (anyone may reserve) or <c>queue</c> (a waiting room).</summary>
public static class AdmissionModes
{
    public const string Open = "open";
    public const string Queue = "queue";
}

/// <summary>The states of a waiting-room ticket, as <see cref="QueueStatusResponse.State"/> spells them.</summary>
public static class QueueStates
{
    /// <summary>In line; <c>position</c> 1 is admitted next. Poll again after <c>Retry-After</c> seconds.</summary>
    public const string Waiting = "Waiting";

    /// <summary>The buyer may reserve with <c>admissionToken</c> until <c>expiresAt</c>.</summary>
    public const string Admitted = "Admitted";

    /// <summary>No unit is left: nothing to wait for. Turns back into Waiting (or Admitted) when cancellations return units.</summary>
    public const string SoldOut = "SoldOut";

    /// <summary>The ticket's admission lapsed (its token expired, or was withdrawn when the SKU sold out); joining again queues anew at the back.</summary>
    public const string Expired = "Expired";

    /// <summary>The campaign has ended.</summary>
    public const string Ended = "Ended";
}

/// <summary>The campaign definition's <c>admission</c> member; omitted means <c>open</c>.</summary>
public sealed record AdmissionBody(string? Mode, decimal? AdmitFactor = null, int? TokenSeconds = null);

/// <summary>A campaign's admission as stored: <c>admitFactor</c> and <c>tokenSeconds</c> apply to <c>queue</c> only.</summary>
public sealed record AdmissionView(string Mode, decimal AdmitFactor, int TokenSeconds);

/// <summary>202 to <c>POST …/queue</c>: the buyer's ticket (the same one when asked again) and where it stands.</summary>
public sealed record QueueTicketResponse(string Ticket, long Position, string State);

/// <summary>
/// <c>GET …/queue/{ticket}</c>: <c>{"state":"Waiting","position":N}</c>, <c>{"state":"Admitted","admissionToken":"…","expiresAt":"…"}</c>,
/// or the state alone (<see cref="QueueStates"/>).
/// </summary>
public sealed record QueueStatusResponse(
    string State,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? Position = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? AdmissionToken = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] DateTime? ExpiresAt = null);
