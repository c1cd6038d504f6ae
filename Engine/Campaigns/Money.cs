using System.Globalization;

namespace FlashSale.Engine.Campaigns;

/// <summary>Amounts are decimals with two places; Redis holds them as integer minor units.</summary>
public static class Money
{
    public const decimal Max = 9_999_999_999.99m;

    public static long ToMinor(decimal amount) => decimal.ToInt64(amount * 100m);

    public static decimal FromMinor(long minor) => minor / 100m;

    public static string Format(decimal amount) => amount.ToString("0.00", CultureInfo.InvariantCulture);

    public static bool HasAtMostTwoDecimals(decimal amount) => decimal.Round(amount, 2) == amount;
}
