using System.Globalization;
using System.Text;
using FlashSale.Ingress.Payments;

namespace FlashSale.Tests.Infrastructure;

/// <summary>Plays the payment provider: signed callbacks as the provider would send them.</summary>
public static class PaymentProvider
{
    public static Task<HttpResponseMessage> CallbackAsync(
        HttpClient client, string orderNo, string txnId, string amount, string status = "succeeded",
        DateTimeOffset? at = null, string secret = IngressFactory.PaymentSecret)
        => SendAsync(client, $$"""{"orderNo":"{{orderNo}}","providerTxnId":"{{txnId}}","amount":"{{amount}}","status":"{{status}}"}""", at, secret);

    public static async Task<HttpResponseMessage> SendAsync(HttpClient client, string body, DateTimeOffset? at = null, string secret = IngressFactory.PaymentSecret)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/payments/callbacks") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-Timestamp", timestamp);
        request.Headers.Add("X-Signature", Convert.ToHexStringLower(PaymentsApi.Sign(secret, timestamp, bytes)));
        return await client.SendAsync(request);
    }
}
