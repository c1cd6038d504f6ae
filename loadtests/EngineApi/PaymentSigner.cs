using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FlashSale.LoadTests.EngineApi;

/// <summary>
/// Signs payment callbacks the way the Ingress verifies them (Ingress/Payments/PaymentsApi.cs): the
/// lowercase hex HMAC-SHA256 of <c>"&lt;X-Timestamp&gt;.&lt;raw body&gt;"</c> with the shared callback secret.
/// </summary>
public sealed class PaymentSigner(string secret)
{
    // DEV-ONLY default: the same secret as Ingress/appsettings.Development.json, so a run against a
    // local Development Ingress needs no setup. Any other Ingress has its own Payments:CallbackSecret,
    // which the run must be given in FLASHSALE_PAYMENT_SECRET.
    public const string DevelopmentSecret = "DEV-ONLY-payment-callback-secret-0123456789";
    public const string SecretVariable = "FLASHSALE_PAYMENT_SECRET";

    private readonly byte[] _key = Encoding.UTF8.GetBytes(secret);

    public static PaymentSigner FromEnvironment(out bool usingDevelopmentSecret)
    {
        var secret = Environment.GetEnvironmentVariable(SecretVariable);
        usingDevelopmentSecret = string.IsNullOrEmpty(secret);
        return new PaymentSigner(usingDevelopmentSecret ? DevelopmentSecret : secret!);
    }

    /// <summary>The X-Timestamp (Unix seconds, now) and X-Signature headers for <paramref name="body"/>.</summary>
    public (string Timestamp, string Signature) Sign(ReadOnlySpan<byte> body)
    {
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return (timestamp, Convert.ToHexStringLower(HMACSHA256.HashData(_key, message)));
    }
}
