using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

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

/// <summary>Reads a price given as a JSON string ("199.00") or number (199.0); writes a string.</summary>
public sealed class MoneyJsonConverter : JsonConverter<decimal>
{
    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Number)
        {
            return reader.GetDecimal();
        }
        if (reader.TokenType == JsonTokenType.String
            && decimal.TryParse(reader.GetString(), NumberStyles.AllowDecimalPoint | NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
        {
            return value;
        }
        throw new JsonException("An amount must be a decimal number, as a JSON number or string such as \"199.00\".");
    }

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options)
        => writer.WriteStringValue(Money.Format(value));
}
