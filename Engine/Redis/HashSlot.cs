using System.Text;

namespace FlashSale.Engine.Redis;

/// <summary>
/// The Redis Cluster hash slot of a key (CRC16/XMODEM of its hash tag, or of the whole key without one, modulo
/// 16384), computed here rather than asked of the client: it is the same on a single server, where the client does
/// not compute slots. Every key of a SKU carries the SKU's tag, so they all share its slot.
/// </summary>
public static class HashSlot
{
    public const int Count = 16384;

    public static int Of(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        return Of(Tag(bytes));
    }

    /// <summary>The part of the key the slot is computed from: between the first '{' and the next '}', if that is not empty.</summary>
    private static ReadOnlySpan<byte> Tag(ReadOnlySpan<byte> key)
    {
        var open = key.IndexOf((byte)'{');
        if (open < 0)
        {
            return key;
        }
        var close = key[(open + 1)..].IndexOf((byte)'}');
        return close <= 0 ? key : key.Slice(open + 1, close);
    }

    private static int Of(ReadOnlySpan<byte> data)
    {
        ushort crc = 0;
        foreach (var b in data)
        {
            crc ^= (ushort)(b << 8);
            for (var bit = 0; bit < 8; bit++)
            {
                crc = (crc & 0x8000) != 0 ? (ushort)((crc << 1) ^ 0x1021) : (ushort)(crc << 1);
            }
        }
        return crc % Count;
    }
}
