using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Numerics;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace FlashSale.Ingress.Infrastructure;

/// <summary>How long and how many validated bearer tokens the Ingress keeps (<see cref="TokenValidationCache"/>).</summary>
public sealed class TokenCacheOptions
{
    public const string Section = "Auth:TokenCache";

    /// <summary>
    /// Most tokens held at once; 0 turns the cache off. A kept token costs about 1.2 KB (the string, its identity and
    /// claims, its lifetime: <see cref="CachingTokenHandler"/> keeps no parsed token), so the default holds the buyers of a
    /// large sale in about 120 MB at most (it was 4-5 KB a token, 450 MB, while the whole validation result was kept).
    /// </summary>
    [Range(0, 10_000_000)]
    public int Capacity { get; set; } = 100_000;

    /// <summary>
    /// Longest a token is served from the cache after it was validated, whatever its own expiry: a key
    /// rotated by configuration or a token the shop withdraws stops working within this time.
    /// </summary>
    [Range(1, 86_400)]
    public int MaxAgeSeconds { get; set; } = 300;
}

/// <summary>
/// Validated bearer tokens, keyed by the whole token string, so a buyer's repeated requests skip the HMAC,
/// the base64 and the JSON of the token. Keying by the full string means a token whose signature differs by
/// one character is another key and is validated in full; only tokens that validated are ever held.
/// An entry is served until the token's <c>exp</c> or <see cref="TokenCacheOptions.MaxAgeSeconds"/> after it
/// was validated, whichever comes first, and only for the signing key it was validated with.
/// </summary>
/// <remarks>
/// Bounded by two generations of at most half the capacity each: new entries go into the young one; when it
/// is full it becomes the old one and the former old one is dropped whole. A hit in the old generation moves
/// the entry to the young one, so the tokens in use survive a rotation while a flood of distinct tokens only
/// ever replaces itself. Lookups take no lock; only a rotation does.
/// <para>
/// A token is kept from its second validation on, not its first: a doorkeeper remembers the hash of each token
/// validated once, in a fixed array of ints allocated with the cache (no references, nothing for the GC to trace),
/// and admits a token whose hash it already holds. In a sale most tokens are sent once or twice; keeping every one
/// on first sight filled the heap with about 2 KB per buyer that lived minutes, and the collections that promoted
/// them were the Ingress's longest pauses (0.21-0.25 s of pause in 15 s at 1,000 one-shot buyers/s, against
/// 0.06-0.08 s with the cache off; p99 24-26 ms against 13-17 ms). A buyer who comes back pays one more full
/// validation and is served from the cache after that. Two tokens with one hash only admit the second early:
/// the doorkeeper decides what is kept, never what is valid.
/// </para>
/// </remarks>
public sealed class TokenValidationCache
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _maxAge;
    private readonly int _generationCapacity;
    private readonly Lock _rotation = new();
    private ConcurrentDictionary<string, Entry> _young = new(StringComparer.Ordinal);
    private ConcurrentDictionary<string, Entry> _old = new(StringComparer.Ordinal);
    private int _youngCount;
    private readonly int[] _seenOnce;

    public TokenValidationCache(IOptions<TokenCacheOptions> options, TimeProvider time)
    {
        _time = time;
        _maxAge = TimeSpan.FromSeconds(options.Value.MaxAgeSeconds);
        _generationCapacity = (options.Value.Capacity + 1) / 2;
        // As many slots as tokens held, at least: a one-shot token's slot is taken over by another within about
        // capacity tokens, so a buyer who comes back within that many others is admitted.
        _seenOnce = options.Value.Capacity == 0 ? [] : new int[(int)BitOperations.RoundUpToPowerOf2((uint)options.Value.Capacity)];
    }

    public bool Enabled => _generationCapacity > 0;

    /// <summary>Tokens held now, both generations (for tests and diagnostics; counts every entry).</summary>
    public int Count => _young.Count + _old.Count;

    /// <summary>The result <paramref name="token"/> validated to, if it was validated with <paramref name="signingKey"/> and may still be served.</summary>
    public bool TryGet(string token, SecurityKey? signingKey, out TokenValidationResult result)
    {
        var inYoung = _young.TryGetValue(token, out var entry);
        if (!inYoung && !_old.TryGetValue(token, out entry))
        {
            result = null!;
            return false;
        }
        if (entry!.ServeUntil <= _time.GetUtcNow() || !ReferenceEquals(entry.SigningKey, signingKey))
        {
            _young.TryRemove(token, out _);
            _old.TryRemove(token, out _);
            result = null!;
            return false;
        }
        if (!inYoung)
        {
            Insert(token, entry);
        }
        result = entry.Result;
        return true;
    }

    /// <summary>
    /// A result that validated: kept when the doorkeeper saw the token validated before (true), else only remembered
    /// as seen. One without an expiry is never kept (the validator refuses those anyway).
    /// </summary>
    public bool Add(string token, SecurityKey? signingKey, TokenValidationResult result)
    {
        if (!Enabled || !result.IsValid || result.SecurityToken is not { } validated || validated.ValidTo == DateTime.MinValue || !SeenBefore(token))
        {
            return false;
        }
        var expires = new DateTimeOffset(DateTime.SpecifyKind(validated.ValidTo, DateTimeKind.Utc));
        var capped = _time.GetUtcNow() + _maxAge;
        Insert(token, new Entry(result, signingKey, expires < capped ? expires : capped));
        return true;
    }

    /// <summary>
    /// True when the token's hash is in its slot (a second sighting); else it takes the slot. Two threads racing for
    /// a slot only lose a sighting. The low bit is set so that an empty slot (0) never matches.
    /// </summary>
    private bool SeenBefore(string token)
    {
        var hash = StringComparer.Ordinal.GetHashCode(token);
        ref var slot = ref _seenOnce[hash & (_seenOnce.Length - 1)];
        var mark = hash | 1;
        if (Volatile.Read(ref slot) == mark)
        {
            return true;
        }
        Volatile.Write(ref slot, mark);
        return false;
    }

    private void Insert(string token, Entry entry)
    {
        if (!_young.TryAdd(token, entry))
        {
            return;
        }
        if (Interlocked.Increment(ref _youngCount) < _generationCapacity)
        {
            return;
        }
        lock (_rotation)
        {
            if (Volatile.Read(ref _youngCount) < _generationCapacity)
            {
                return;
            }
            _old = _young;
            _young = new ConcurrentDictionary<string, Entry>(StringComparer.Ordinal);
            Volatile.Write(ref _youngCount, 0);
        }
    }

    private sealed record Entry(TokenValidationResult Result, SecurityKey? SigningKey, DateTimeOffset ServeUntil);
}
