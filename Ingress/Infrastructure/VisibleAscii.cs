using System.Diagnostics.CodeAnalysis;

namespace FlashSale.Ingress.Infrastructure;

/// <summary>
/// Identifiers from outside (Idempotency-Key, providerTxnId) are stored, listed to admins and logged, and
/// become Redis field names: visible ASCII only, so NUL, line breaks or bidi controls cannot forge or hide entries.
/// </summary>
public static class VisibleAscii
{
    public static bool IsValid([NotNullWhen(true)] string? value, int maxLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > maxLength)
        {
            return false;
        }
        foreach (var c in value)
        {
            if (c is < '!' or > '~')
            {
                return false;
            }
        }
        return true;
    }
}
