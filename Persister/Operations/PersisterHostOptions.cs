using System.ComponentModel.DataAnnotations;

namespace FlashSale.Persister.Operations;

/// <summary>The Persister host's own setting, in the <c>Persister</c> section beside the pipeline's.</summary>
public sealed class PersisterHostOptions
{
    public const string Section = "Persister";

    /// <summary>
    /// Where the Persister serves <c>/metrics</c> and <c>/health/*</c>, unless the standard <c>urls</c>
    /// setting (<c>--urls</c>, <c>ASPNETCORE_URLS</c>) is given. Port 0 takes any free port.
    /// </summary>
    [Required]
    [Url]
    public string MetricsUrl { get; set; } = "http://127.0.0.1:5081";
}
