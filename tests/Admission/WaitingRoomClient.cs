using System.Net;
using System.Text.Json;
using FlashSale.Contracts;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Admission;

/// <summary>A buyer's side of a waiting room in the tests: join, poll, reserve with a token.</summary>
internal static class WaitingRoomClient
{
    public const string Queue = """{"mode":"queue","admitFactor":1.5,"tokenSeconds":60}""";

    public static async Task<(string Ticket, long Position, string State)> JoinAsync(this TestSale sale, HttpClient buyer)
    {
        using var response = await buyer.PostAsync(sale.QueuePath, null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.JsonAsync();
        var ticket = body.GetProperty("ticket").GetString()!;
        Assert.Equal(sale.QueuePath + "/" + Uri.EscapeDataString(ticket), response.Headers.Location?.OriginalString);
        return (ticket, body.GetProperty("position").GetInt64(), body.GetProperty("state").GetString()!);
    }

    public static async Task<(HttpStatusCode Status, JsonElement Body, string? RetryAfter)> PollAsync(this TestSale sale, HttpClient buyer, string ticket)
    {
        using var response = await buyer.GetAsync(sale.QueuePath + "/" + Uri.EscapeDataString(ticket));
        var retryAfter = response.Headers.RetryAfter?.Delta is { } delta ? ((int)delta.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture) : null;
        return (response.StatusCode, await response.JsonAsync(), retryAfter);
    }

    public static async Task<string> StateAsync(this TestSale sale, HttpClient buyer, string ticket)
    {
        var (status, body, _) = await sale.PollAsync(buyer, ticket);
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("state").GetString()!;
    }

    /// <summary>Polls until the ticket is Admitted (as a buyer would, a little faster) and returns its token.</summary>
    public static async Task<string> AdmissionTokenAsync(this TestSale sale, HttpClient buyer, string ticket, TimeSpan? timeout = null)
    {
        string? token = null;
        await Eventually.HoldsAsync(async () =>
        {
            var (status, body, _) = await sale.PollAsync(buyer, ticket);
            Assert.Equal(HttpStatusCode.OK, status);
            if (body.GetProperty("state").GetString() != QueueStates.Admitted)
            {
                return false;
            }
            token = body.GetProperty("admissionToken").GetString();
            return true;
        }, timeout ?? TimeSpan.FromSeconds(30));
        return token!;
    }

    public static Task<HttpResponseMessage> ReserveAdmittedAsync(this TestSale sale, HttpClient buyer, string idempotencyKey, string? admissionToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, sale.ReservationsPath) { Content = TestSale.Json("""{"quantity":1}""") };
        request.Headers.TryAddWithoutValidation(ApiHeaders.IdempotencyKey, idempotencyKey);
        if (admissionToken is not null)
        {
            request.Headers.TryAddWithoutValidation(ApiHeaders.AdmissionToken, admissionToken);
        }
        return buyer.SendAsync(request);
    }
}
