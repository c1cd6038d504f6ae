using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using FlashSale.Contracts;
using FlashSale.Tests.Infrastructure;
using StackExchange.Redis;

namespace FlashSale.Tests.Admission;

/// <summary>
/// A whole sale through a waiting room: a crowd twenty times the stock joins before the start, is admitted in join order
/// in waves within the admit factor, the stock sells exactly, everyone else learns it is sold out at once, and a
/// cancelled order admits the next ticket in line. Waits for real time (token expiry), hence Slow.
/// </summary>
[Collection(IngressCollection.Name)]
[Trait("Category", "Slow")]
public sealed class WaitingRoomSaleTests(IngressFactory factory)
{
    private const int Stock = 100;
    private const int Crowd = 2_000;
    private const decimal AdmitFactor = 1.5m;
    private const int TokenSeconds = 10;
    private const long FirstBuyer = 120_000;

    /// <summary>The requirement: every ticket still waiting knows the SKU sold out within two seconds of it.</summary>
    private static readonly TimeSpan SoldOutWithin = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task TwoThousandBuyersAreAdmittedInJoinOrderWithinTheFactorAndTheSaleSellsExactlyItsStock()
    {
        // Long enough for the whole crowd to join first on a loaded machine; the test checks that it did.
        var startsIn = TimeSpan.FromSeconds(15);
        var sale = await TestSale.StartAsync(factory, stock: Stock, startsIn: startsIn,
            admission: $$"""{"mode":"queue","admitFactor":{{AdmitFactor}},"tokenSeconds":{{TokenSeconds}}}""");
        var startsAt = DateTime.UtcNow + startsIn;
        var buyers = Enumerable.Range(0, Crowd).Select(i => factory.Buyer(FirstBuyer + i)).ToArray();
        try
        {
            // Join, 32 at a time: the ticket's position is its place in join order (nobody is admitted before the start).
            var tickets = new Ticket[Crowd];
            await Parallel.ForEachAsync(Enumerable.Range(0, Crowd), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
            {
                var (ticket, position, state) = await sale.JoinAsync(buyers[i]);
                Assert.Equal(QueueStates.Waiting, state);
                tickets[i] = new Ticket(buyers[i], ticket, position);
            });
            Assert.True(DateTime.UtcNow < startsAt, "the crowd did not finish joining before the start: raise startsIn");
            var byPosition = tickets.OrderBy(t => t.Position).ToArray();
            Assert.Equal(Enumerable.Range(1, Crowd).Select(p => (long)p), byPosition.Select(t => t.Position));
            Ticket At(long position) => byPosition[position - 1];

            // The first wave: exactly floor(1.5 x 100) = 150 tickets, the first 150 in join order, and nobody more while none is used.
            await WithRoomOnFailureAsync(sale, () => Eventually.HoldsAsync(
                async () => await sale.StateAsync(At(150).Buyer, At(150).Id) == QueueStates.Admitted, startsIn + TimeSpan.FromSeconds(30)));
            var firstWave = await StatesAsync(sale, byPosition[..170]);
            Assert.All(firstWave[..150], s => Assert.Equal(QueueStates.Admitted, s.State));
            Assert.Equal(Enumerable.Range(1, 20).Select(p => (QueueStates.Waiting, (long?)p)), firstWave[150..].Select(s => (s.State, s.Position)));
            var room = await RoomAsync(sale);
            Assert.Equal((150L, 0L), (room.Admitted, room.Lapsed));
            Assert.True(room.Outstanding <= AdmitFactor * room.Available, $"{room.Outstanding} tokens for {room.Available} units");

            // 60 of them buy; the other 90 do not come. Used tokens leave the count, but 90 outstanding tokens are still more
            // than 1.5 x 40 units: nobody else is admitted until the no-shows' tokens expire.
            var bought = await ReserveAsync(sale, firstWave[..60]);
            Assert.All(bought, r => Assert.Equal(HttpStatusCode.Created, r));
            await Eventually.HoldsAsync(async () => (await RoomAsync(sale)).Used == 60, TimeSpan.FromSeconds(TokenSeconds));
            await Eventually.HoldsAsync(async () =>
            {
                var now = await RoomAsync(sale);
                Assert.True(now.Lapsed == 150 || now.Admitted == 150, $"admitted up to {now.Admitted} before the first wave lapsed");
                return now.Lapsed == 150;
            }, TimeSpan.FromSeconds(TokenSeconds + 30));

            // The second wave: 1.5 x 40 = 60 more, the next in line; the first wave's tickets are Expired, their tokens refused.
            await Eventually.HoldsAsync(async () => (await RoomAsync(sale)).Admitted == 210, TimeSpan.FromSeconds(10));
            room = await RoomAsync(sale);
            Assert.Equal((210L, 150L, 60L, 40L), (room.Admitted, room.Lapsed, room.Outstanding, room.Available));
            Assert.True(room.Outstanding <= AdmitFactor * room.Available);
            var secondWave = await StatesAsync(sale, byPosition[..211]);
            Assert.All(secondWave[..150], s => Assert.Equal(QueueStates.Expired, s.State));
            Assert.All(secondWave[150..210], s => Assert.Equal(QueueStates.Admitted, s.State));
            Assert.Equal((QueueStates.Waiting, (long?)1), (secondWave[210].State, secondWave[210].Position));
            var beforeLate = await sale.SnapshotAsync();
            using (var late = await sale.ReserveAdmittedAsync(At(61).Buyer, "late", firstWave[60].Token))
            {
                await late.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemTypes.AdmissionRequired);
            }
            Assert.Equal(beforeLate, await sale.SnapshotAsync());

            // The second wave buys all at once: 40 get the last units, 20 are too late. Exactly the stock is sold.
            var soldOutAt = new Stopwatch[1];
            var results = await ReserveAsync(sale, secondWave[150..210], onCreated: count =>
            {
                if (count == 40)
                {
                    soldOutAt[0] = Stopwatch.StartNew();
                }
            });
            Assert.Equal(40, results.Count(r => r == HttpStatusCode.Created));
            Assert.Equal(20, results.Count(r => r == HttpStatusCode.Conflict));
            Assert.Equal(0, await sale.AvailableAsync());
            Assert.Equal(Stock, await RedisLedger.LengthAsync(sale.Db, sale.Keys));

            // Everyone still waiting learns it at once: every other ticket is SoldOut within two seconds of the last unit's 201.
            // Judged by when each poll was sent, so a slow sweep over 1,900 tickets on a loaded machine cannot fail it: a poll
            // sent more than two seconds after the sell-out must say SoldOut, and every ticket must say so in the end.
            var others = byPosition.Where((_, i) => !(i < 60 || (i >= 150 && i < 210 && secondWave[i].Bought))).ToArray();
            Assert.Equal(Crowd - Stock, others.Length);
            var lateAnswers = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(Enumerable.Range(0, others.Length), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, cancellationToken) =>
            {
                while (true)
                {
                    var sentAt = soldOutAt[0].Elapsed;
                    var state = await sale.StateAsync(others[i].Buyer, others[i].Id);
                    if (state == QueueStates.SoldOut)
                    {
                        return;
                    }
                    if (sentAt > SoldOutWithin)
                    {
                        lateAnswers.Add($"#{others[i].Position} was {state} {sentAt.TotalMilliseconds:0} ms after the sell-out");
                    }
                    Assert.True(sentAt < TimeSpan.FromSeconds(30), $"ticket #{others[i].Position} never showed SoldOut");
                    await Task.Delay(50, cancellationToken);
                }
            });
            Assert.Empty(lateAnswers);

            // A cancel returns one unit: the next ticket in line (#211) is admitted, not the ones whose admission the sell-out withdrew.
            await ShardOrders.PersistAsync(factory, sale);
            var firstBuyer = At(1);
            var order = await (await sale.ReserveAdmittedAsync(firstBuyer.Buyer, "k-1", null)).JsonAsync();
            using (var cancel = await firstBuyer.Buyer.PostAsync($"/api/v1/orders/{order.GetProperty("orderNo").GetString()}/cancel", null))
            {
                Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
            }
            var nextToken = await sale.AdmissionTokenAsync(At(211).Buyer, At(211).Id);
            Assert.Equal((QueueStates.Waiting, (long?)1), await StateAndPositionAsync(sale, At(212)));
            var withdrawn = secondWave[150..210].First(s => !s.Bought);
            using (var refused = await sale.ReserveAdmittedAsync(withdrawn.Ticket.Buyer, "withdrawn", withdrawn.Token))
            {
                await refused.AssertProblemAsync(HttpStatusCode.Forbidden, ProblemTypes.AdmissionRequired);
            }
            using (var resold = await sale.ReserveAdmittedAsync(At(211).Buyer, "k-211", nextToken))
            {
                Assert.Equal(HttpStatusCode.Created, resold.StatusCode);
            }
            Assert.Equal(0, await sale.AvailableAsync());
            // The poll view is up to Admission:ViewMaxAgeMs old: the next ticket learns within a moment.
            await Eventually.HoldsAsync(async () => await sale.StateAsync(At(212).Buyer, At(212).Id) == QueueStates.SoldOut, SoldOutWithin);
        }
        finally
        {
            foreach (var buyer in buyers)
            {
                buyer.Dispose();
            }
        }
    }

    private sealed record Ticket(HttpClient Buyer, string Id, long Position);

    private sealed record TicketState(Ticket Ticket, string State, long? Position, string? Token)
    {
        public bool Bought { get; set; }
    }

    private static async Task<TicketState[]> StatesAsync(TestSale sale, Ticket[] tickets)
    {
        var states = new TicketState[tickets.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, tickets.Length), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            var (status, body, _) = await sale.PollAsync(tickets[i].Buyer, tickets[i].Id);
            Assert.Equal(HttpStatusCode.OK, status);
            states[i] = new TicketState(tickets[i], body.GetProperty("state").GetString()!,
                body.TryGetProperty("position", out var position) ? position.GetInt64() : null,
                body.TryGetProperty("admissionToken", out var token) ? token.GetString() : null);
        });
        return states;
    }

    private static async Task<(string, long?)> StateAndPositionAsync(TestSale sale, Ticket ticket)
    {
        var state = (await StatesAsync(sale, [ticket]))[0];
        return (state.State, state.Position);
    }

    /// <summary>Every admitted ticket reserves one unit with its token, all at once; their answers in the tickets' order.</summary>
    private static async Task<HttpStatusCode[]> ReserveAsync(TestSale sale, TicketState[] admitted, Action<int>? onCreated = null)
    {
        var created = 0;
        var results = new HttpStatusCode[admitted.Length];
        await Parallel.ForEachAsync(Enumerable.Range(0, admitted.Length), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
        {
            using var response = await sale.ReserveAdmittedAsync(admitted[i].Ticket.Buyer, "k-" + admitted[i].Ticket.Position, admitted[i].Token);
            results[i] = response.StatusCode;
            if (response.StatusCode == HttpStatusCode.Created)
            {
                admitted[i].Bought = true;
                onCreated?.Invoke(Interlocked.Increment(ref created));
            }
        });
        return results;
    }

    private sealed record Room(long Admitted, long Lapsed, long Used, long Outstanding, long Available);

    /// <summary>A failed wait says where the room stood: its watermarks and waves, the SKU's stock and fence, who held the admitting lease.</summary>
    private static async Task WithRoomOnFailureAsync(TestSale sale, Func<Task> wait)
    {
        try
        {
            await wait();
        }
        catch (Exception ex) when (ex is Xunit.Sdk.XunitException)
        {
            var db = sale.Db;
            var queue = await db.HashGetAllAsync(sale.Keys.Queue);
            var meta = await db.HashGetAsync(sale.Keys.Meta, ["available", "starts", "fenced", "admit", "admit_ttl"]);
            var waves = await db.ListRangeAsync(sale.Keys.QueueWaves);
            var lease = await db.StringGetAsync("fs:admission:lease");
            throw new Xunit.Sdk.XunitException(
                $"{ex.Message}; room {string.Join(",", queue.Select(e => $"{e.Name}={e.Value}"))}; waves [{string.Join(" ", waves)}]; "
                + $"meta available={meta[0]} starts={meta[1]} fenced={meta[2]} admit={meta[3]}/{meta[4]}; lease {lease}; now {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
        }
    }

    /// <summary>The room's watermarks as Redis holds them; outstanding = admitted − lapsed − used above lapsed.</summary>
    private static async Task<Room> RoomAsync(TestSale sale)
    {
        var db = sale.Db;
        var queue = await db.HashGetAsync(sale.Keys.Queue, ["admitted", "lapsed"]);
        long admitted = queue[0].IsNull ? 0 : (long)queue[0], lapsed = queue[1].IsNull ? 0 : (long)queue[1];
        var used = await db.SortedSetLengthAsync(sale.Keys.QueueUsed, lapsed + 1, admitted);
        var allUsed = await db.SortedSetLengthAsync(sale.Keys.QueueUsed);
        return new Room(admitted, lapsed, allUsed, admitted - lapsed - used, await sale.AvailableAsync());
    }
}
