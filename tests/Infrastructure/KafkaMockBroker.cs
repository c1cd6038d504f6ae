using System.Net.Http.Json;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// The Kafka-protocol broker (librdkafka's mock cluster) that dev/test.sh starts in its own
/// process (dev/KafkaMock); found through the files it writes under .run/. Also injects faults.
/// </summary>
public sealed class KafkaMockBroker
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private KafkaMockBroker(string bootstrapServers, Uri control)
    {
        BootstrapServers = bootstrapServers;
        Control = control;
    }

    public string BootstrapServers { get; }

    public Uri Control { get; }

    public static KafkaMockBroker Find()
    {
        var bootstrap = Path.Combine(Repository.RunDirectory, "kafka.bootstrap");
        var control = Path.Combine(Repository.RunDirectory, "kafka.control");
        if (!File.Exists(bootstrap) || !File.Exists(control))
        {
            throw new InvalidOperationException(
                $"The Kafka mock broker is not running ({bootstrap} missing). Run the tests with dev/test.sh, which starts it.");
        }
        return new KafkaMockBroker(File.ReadAllText(bootstrap).Trim(), new Uri(File.ReadAllText(control).Trim()));
    }

    public Task CreateTopicAsync(string topic, int partitions) => PostAsync($"topics/{topic}?partitions={partitions}");

    public Task BrokerDownAsync(int brokerId) => PostAsync($"brokers/{brokerId}/down");

    public Task BrokerUpAsync(int brokerId) => PostAsync($"brokers/{brokerId}/up");

    /// <summary>Moves a partition's leadership, as a real cluster's election would after a broker is lost (the mock never does).</summary>
    public Task MoveLeaderAsync(string topic, int partition, int brokerId) => PostAsync($"partitions/{topic}/{partition}/leader/{brokerId}");

    public Task PushErrorsAsync(string api, string error, int count) => PostAsync($"errors?api={api}&error={error}&count={count}");

    public async Task ClearErrorsAsync()
    {
        using var response = await Http.DeleteAsync(new Uri(Control, "errors"));
        response.EnsureSuccessStatusCode();
    }

    public async Task<int[]> BrokerIdsAsync()
    {
        var state = await Http.GetFromJsonAsync<System.Text.Json.JsonElement>(Control);
        return [.. state.GetProperty("brokers").EnumerateArray().Select(b => b.ValueKind == System.Text.Json.JsonValueKind.Number ? b.GetInt32() : b.GetProperty("id").GetInt32())];
    }

    private async Task PostAsync(string path)
    {
        using var response = await Http.PostAsync(new Uri(Control, path), null);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Kafka mock control {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }
}
