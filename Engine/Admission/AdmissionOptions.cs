using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Admission;

/// <summary>The waiting rooms of queue-mode campaigns (section <c>Admission</c>); the rooms themselves are set per campaign.</summary>
public sealed class AdmissionOptions
{
    public const string Section = "Admission";

    /// <summary>
    /// HMAC-SHA256 key of admission tokens and queue tickets; its UTF-8 bytes sign. Every Ingress of a deployment needs the same
    /// one (a token minted by one is checked by another). From configuration or a secret store only.
    /// </summary>
    [Required]
    [MinLength(32)]
    public string SigningKey { get; set; } = "";

    /// <summary>Seconds a waiting buyer should wait between polls: the <c>Retry-After</c> of a Waiting (and SoldOut) ticket.</summary>
    [Range(1, 60)]
    public int PollIntervalSeconds { get; set; } = 1;

    /// <summary>How often the admitting loop's leaseholder expires, withdraws and admits waves of every waiting room.</summary>
    [Range(10, 10_000)]
    public int AdmitIntervalMs { get; set; } = 100;

    /// <summary>
    /// How old an Ingress's in-memory view of a waiting room (read with one script call) may be when it answers a poll or
    /// checks a token; older, the next request reads it again (one read per SKU however many buyers poll).
    /// </summary>
    [Range(10, 5_000)]
    public int ViewMaxAgeMs { get; set; } = 100;

    /// <summary>Whether this process runs the admitting loop (one Ingress at a time does, under a lease); off in tools.</summary>
    public bool AdmitterEnabled { get; set; } = true;
}
