using FlashSale.Engine.Kafka;
using FlashSale.KafkaMock;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(MockOptions.Usage);
    return 0;
}

MockOptions options;
try
{
    options = MockOptions.Parse(args);
}
catch (FormatException e)
{
    await Console.Error.WriteLineAsync($"{e.Message}\n\n{MockOptions.Usage}");
    return 2;
}

using var cluster = MockCluster.Start(options.Brokers);
cluster.SetGroupInitialRebalanceDelay(options.GroupInitialRebalanceDelayMs);
foreach (var topic in options.Topics)
{
    cluster.CreateTopic(topic);
}

var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
builder.Services.AddSingleton(cluster);
// Each control action logs itself; per-request framework logs would bury them.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
await using var app = builder.Build();
app.Urls.Add(options.ControlUrl);
app.MapControlApi();
try
{
    await app.StartAsync();
}
catch (IOException e)
{
    app.Logger.LogCritical("Cannot serve the control API at {ControlUrl}: {Reason}", options.ControlUrl, e.Message);
    return 1;
}

// The control file first and the bootstrap file last: once the bootstrap file exists, all is ready.
var controlUrl = app.Urls.First();
RunFiles.WriteAtomically(options.ControlFile, controlUrl);
RunFiles.WriteAtomically(options.BootstrapFile, cluster.BootstrapServers);
app.Lifetime.ApplicationStopping.Register(() =>
{
    RunFiles.DeleteIfUnchanged(options.BootstrapFile, cluster.BootstrapServers);
    RunFiles.DeleteIfUnchanged(options.ControlFile, controlUrl);
});

app.Logger.LogInformation(
    "Kafka mock cluster up: {Brokers} brokers at {BootstrapServers} (librdkafka {Version} from {Library}); topics {Topics}; control API {ControlUrl}; wrote {BootstrapFile} and {ControlFile}",
    cluster.BrokerCount, cluster.BootstrapServers, Confluent.Kafka.Library.VersionString, Librdkafka.LoadedPath,
    string.Join(", ", cluster.State().Topics.Select(t => $"{t.Name}:{t.Partitions}:{t.ReplicationFactor}")),
    controlUrl, options.BootstrapFile, options.ControlFile);

await app.WaitForShutdownAsync();
return 0;
