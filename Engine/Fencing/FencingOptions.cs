using System.ComponentModel.DataAnnotations;

namespace FlashSale.Engine.Fencing;

/// <summary>How often Redis's identity is checked (section <c>Fencing</c>).</summary>
public sealed class FencingOptions
{
    public const string Section = "Fencing";

    /// <summary>Time between two identity checks; a lost and restored connection is checked at once as well.</summary>
    [Range(50, 60_000)]
    public int IdentityCheckIntervalMs { get; set; } = 1_000;

    /// <summary>How long a starting process waits for its first identity check before it starts anyway (with the gate closed).</summary>
    [Range(0, 600_000)]
    public int StartupWaitMs { get; set; } = 10_000;
}
