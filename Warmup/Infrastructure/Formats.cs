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

    /// <summary>A coupon pool's state, <c>recovering</c> while it is fenced.</summary>
    public static string State(FlashSale.Engine.Coupons.CouponStock pool) => pool switch
    {
        { State: CouponState.NotWarmed } => "[grey]not loaded[/]",
        { Fenced: true } => "[yellow]recovering (fenced)[/]",
        { State: CouponState.Available } => "[green]available[/]",
        { State: CouponState.Exhausted } => "[red]exhausted[/]",
        _ => pool.State.ToString(),
    };
}
