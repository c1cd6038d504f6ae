using System.Collections.Concurrent;
using FlashSale.LoadTests.EngineApi;
using FlashSale.LoadTests.Measurement;
using FlashSale.LoadTests.Scenarios;

namespace FlashSale.LoadTests.Verification;

/// <summary>What replaying the unknown attempts found out.</summary>
public sealed record Resolution(long Attempted, IReadOnlyList<CreatedOrder> Reserved, long NotReserved, IReadOnlyList<ReserveRequest> StillUnknown)
{
    public static Resolution None { get; } = new(0, [], 0, []);
}

/// <summary>
/// A 5xx, a timeout or a broken connection leaves a reservation's fate unknown to the buyer, and
/// to the harness. The engine's answer to that is the Idempotency-Key: the same request again
/// returns the order if there was one and decides afresh if not. Replaying the unknown attempts
/// after the run, gently and with a generous timeout, makes the stock check exact again instead of a range.
/// </summary>
public static class UnknownOutcomes
{
    private const int Parallelism = 8;
    private const int Rounds = 3;

    public static async Task<Resolution> ResolveAsync(EngineClient engine, LoadStats stats, CancellationToken cancellationToken)
    {
        var unknown = stats.Unknown.ToArray();
        if (unknown.Length == 0)
        {
            return Resolution.None;
        }

        var reserved = new ConcurrentQueue<CreatedOrder>();
        long notReserved = 0;
        var pending = unknown;
        for (var round = 0; round < Rounds && pending.Length > 0; round++)
        {
            var stillUnknown = new ConcurrentQueue<ReserveRequest>();
            await Parallel.ForEachAsync(pending, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                async (request, ct) =>
                {
                    var result = await engine.ReserveAsync(request, EngineClient.VerificationTimeout, ct);
                    if (result.Outcome is Outcome.Created or Outcome.Replayed)
                    {
                        reserved.Enqueue(new CreatedOrder(request.SkuId, request.BuyerId, request.Quantity, result.OrderNo, request.IdempotencyKey));
                    }
                    else if (result.Outcome.IsUnknown())
                    {
                        stillUnknown.Enqueue(request);
                    }
                    else
                    {
                        Interlocked.Increment(ref notReserved);
                    }
                });
            pending = [.. stillUnknown];
        }
        return new Resolution(unknown.Length, [.. reserved], notReserved, pending);
    }
}
