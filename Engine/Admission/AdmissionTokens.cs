using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace FlashSale.Engine.Admission;

public enum TokenCheck
{
    Valid,
    Missing,
    Malformed,
    Expired,

    /// <summary>The signature does not match: minted for another buyer, campaign or SKU, or altered, or signed with another key.</summary>
    NotYours,
}

/// <summary>
/// Admission tokens and queue tickets, both signed with <see cref="AdmissionOptions.SigningKey"/> (HMAC-SHA256) so that
/// checking one needs no Redis read. A token is <c>v1.{ticket sequence}.{expires, Unix ms}.{signature}</c> and binds the
/// buyer, campaign, SKU, ticket and expiry; a ticket is <c>{sequence}.{signature}</c> and binds the buyer, campaign and SKU,
/// so another buyer's ticket reads as no ticket at all. The campaign and buyer are not written in either: the route
/// and the bearer token carry them, and the signature covers them.
/// </summary>
public sealed class AdmissionTokens
{
    private const string TokenVersion = "v1";

    /// <summary>A ticket's signature is cut to 128 bits: it is an unguessable name, not a credential that buys anything.</summary>
    private const int TicketSignatureBytes = 16;

    private readonly byte[] _key;

    public AdmissionTokens(IOptions<AdmissionOptions> options)
        : this(options.Value.SigningKey)
    {
    }

    public AdmissionTokens(string signingKey) => _key = Encoding.UTF8.GetBytes(signingKey);

    public string MintToken(string campaignId, long skuId, long userId, long sequence, long expiresAtMs)
    {
        var signature = Sign($"admission|{TokenVersion}|{campaignId}|{skuId}|{userId}|{sequence}|{expiresAtMs}", SHA256.HashSizeInBytes);
        return string.Create(CultureInfo.InvariantCulture, $"{TokenVersion}.{sequence}.{expiresAtMs}.{signature}");
    }

    /// <summary>Checks <paramref name="token"/> for this buyer, campaign and SKU at <paramref name="nowMs"/>; its ticket's sequence when valid.</summary>
    public TokenCheck Check(string? token, string campaignId, long skuId, long userId, long nowMs, out long sequence)
    {
        sequence = 0;
        if (string.IsNullOrEmpty(token))
        {
            return TokenCheck.Missing;
        }
        var parts = token.Split('.');
        if (parts.Length != 4 || parts[0] != TokenVersion
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var seq) || seq <= 0
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var expiresAtMs))
        {
            return TokenCheck.Malformed;
        }
        var expected = Sign($"admission|{TokenVersion}|{campaignId}|{skuId}|{userId}|{seq}|{expiresAtMs}", SHA256.HashSizeInBytes);
        if (!FixedTimeEquals(expected, parts[3]))
        {
            return TokenCheck.NotYours;
        }
        if (expiresAtMs <= nowMs)
        {
            return TokenCheck.Expired;
        }
        sequence = seq;
        return TokenCheck.Valid;
    }

    public string MintTicket(string campaignId, long skuId, long userId, long sequence)
        => string.Create(CultureInfo.InvariantCulture, $"{sequence}.{Sign(TicketText(campaignId, skuId, userId, sequence), TicketSignatureBytes)}");

    /// <summary>The sequence of <paramref name="ticket"/> when it is this buyer's ticket of this SKU.</summary>
    public bool TryReadTicket(string? ticket, string campaignId, long skuId, long userId, out long sequence)
    {
        sequence = 0;
        var dot = ticket?.IndexOf('.', StringComparison.Ordinal) ?? -1;
        if (dot <= 0 || !long.TryParse(ticket.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var seq) || seq <= 0)
        {
            return false;
        }
        if (!FixedTimeEquals(Sign(TicketText(campaignId, skuId, userId, seq), TicketSignatureBytes), ticket![(dot + 1)..]))
        {
            return false;
        }
        sequence = seq;
        return true;
    }

    private static string TicketText(string campaignId, long skuId, long userId, long sequence)
        => string.Create(CultureInfo.InvariantCulture, $"ticket|{campaignId}|{skuId}|{userId}|{sequence}");

    private string Sign(string text, int bytes)
    {
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(text));
        return Base64Url.EncodeToString(mac.AsSpan(0, bytes));
    }

    private static bool FixedTimeEquals(string expected, string actual)
        => expected.Length == actual.Length
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(actual));
}
