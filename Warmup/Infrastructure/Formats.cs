using System.Globalization;
using FlashSale.Contracts;

namespace FlashSale.Warmup.Infrastructure;

internal static class Formats
{
    public static CultureInfo Culture => CultureInfo.InvariantCulture;

    public static string Units(long? units) => units?.ToString("#,0", Culture) ?? "?";

    public static string State(SkuState state) => state switch
    {
        SkuState.NotWarmed => "[grey]not loaded[/]",
        SkuState.Scheduled => "[blue]scheduled[/]",
        SkuState.OnSale => "[green]on sale[/]",
        SkuState.SoldOut => "[red]sold out[/]",
        SkuState.Ended => "[grey]ended[/]",
        SkuState.Recovering => "[yellow]recovering (fenced)[/]",
        _ => state.ToString(),
    };
}
