namespace FlashSale.Contracts;

/// <summary>The headers the API gives a meaning of its own.</summary>
public static class ApiHeaders
{
    /// <summary>Makes a reservation idempotent: 1-64 visible ASCII characters, one per purchase attempt.</summary>
    public const string IdempotencyKey = "Idempotency-Key";

    /// <summary>Set to <c>true</c> on a 200 that returns an earlier reservation of the same key.</summary>
    public const string IdempotentReplayed = "Idempotent-Replayed";

    /// <summary>
    /// In a waiting-room campaign, the admission token a reservation needs: the <c>admissionToken</c> of the buyer's
    /// ticket once it is <c>Admitted</c> (<see cref="ApiRoutes.QueueTicket"/>). Opaque to clients.
    /// </summary>
    public const string AdmissionToken = "Admission-Token";

    /// <summary>A payment callback's Unix time in seconds; see <see cref="PaymentSignature"/>.</summary>
    public const string Timestamp = "X-Timestamp";

    /// <summary>A payment callback's signature; see <see cref="PaymentSignature"/>.</summary>
    public const string Signature = "X-Signature";
}
