using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FlashSale.Contracts;

/// <summary>Reads an amount given as a JSON string ("199.00") or number (199.0); writes a string with two decimals.</summary>
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
        => writer.WriteStringValue(value.ToString("0.00", CultureInfo.InvariantCulture));
}
