using System.Globalization;
using FlashSale.Contracts;

namespace FlashSale.LoadTests.EngineApi;

/// <summary>Signs payment callbacks as a provider does (<see cref="PaymentSignature"/>), with the secret the Ingress was given.</summary>
public sealed class PaymentSigner(string secret)
{
    // DEV-ONLY default: the same secret as Ingress/appsettings.Development.json, so a run against a
    // local Development Ingress needs no setup. Any other Ingress has its own Payments:CallbackSecret,
    // which the run must be given in FLASHSALE_PAYMENT_SECRET.
    public const string DevelopmentSecret = "DEV-ONLY-payment-callback-secret-0123456789";
    public const string SecretVariable = "FLASHSALE_PAYMENT_SECRET";

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
        return (timestamp, Convert.ToHexStringLower(PaymentSignature.Compute(secret, timestamp, body)));
    }
}
