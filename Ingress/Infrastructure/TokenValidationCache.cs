using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace FlashSale.Ingress.Infrastructure;

/// <summary>How long and how many validated bearer tokens the Ingress keeps (<see cref="TokenValidationCache"/>).</summary>
public sealed class TokenCacheOptions
{
    public const string Section = "Auth:TokenCache";

    /// <summary>
    /// Most tokens held at once; 0 turns the cache off. A validated token costs about 2 KB (the string, the
    /// parsed token, its identity), so the default holds the buyers of a large sale in about 200 MB at most.
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

    public TokenValidationCache(IOptions<TokenCacheOptions> options, TimeProvider time)
    {
        _time = time;
        _maxAge = TimeSpan.FromSeconds(options.Value.MaxAgeSeconds);
        _generationCapacity = (options.Value.Capacity + 1) / 2;
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

    /// <summary>Keeps a result that validated; one without an expiry is not kept (the validator refuses those anyway).</summary>
    public void Add(string token, SecurityKey? signingKey, TokenValidationResult result)
    {
        if (!Enabled || !result.IsValid || result.SecurityToken is not { } validated || validated.ValidTo == DateTime.MinValue)
        {
            return;
        }
        var expires = new DateTimeOffset(DateTime.SpecifyKind(validated.ValidTo, DateTimeKind.Utc));
        var capped = _time.GetUtcNow() + _maxAge;
        Insert(token, new Entry(result, signingKey, expires < capped ? expires : capped));
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
