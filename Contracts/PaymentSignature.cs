using System.Security.Cryptography;
using System.Text;

namespace FlashSale.Contracts;

/// <summary>
/// How a payment provider signs its callbacks: <see cref="ApiHeaders.Signature"/> is the lowercase hex
/// HMAC-SHA256, with the shared callback secret, of <c>"&lt;X-Timestamp&gt;.&lt;raw body&gt;"</c>, and
/// <see cref="ApiHeaders.Timestamp"/> is the Unix time in seconds.
/// </summary>
public static class PaymentSignature
{
    public static byte[] Compute(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(timestamp + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message);
    }
}
