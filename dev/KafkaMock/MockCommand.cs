using FlashSale.Engine.Kafka;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console.Cli;

namespace FlashSale.KafkaMock;

/// <summary>Starts the mock cluster and its control API, writes the run files, and serves until stopped.</summary>
internal sealed class MockCommand : AsyncCommand<MockSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, MockSettings settings, CancellationToken cancellationToken)
    {
        using var cluster = MockCluster.Start(settings.Brokers);
        cluster.SetGroupInitialRebalanceDelay(settings.GroupInitialRebalanceDelayMs);
        foreach (var topic in settings.Topics)
        {
            cluster.CreateTopic(topic);
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Services.AddSingleton(cluster);
        // Each control action logs itself; per-request framework logs would bury them.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        await using var app = builder.Build();
        app.Urls.Add(settings.ControlUrl);
        app.MapControlApi();
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            app.Logger.LogCritical("Cannot serve the control API at {ControlUrl}: {Reason}", settings.ControlUrl, e.Message);
            return 1;
        }

        // The control file first and the bootstrap file last: once the bootstrap file exists, all is ready.
        var controlUrl = app.Urls.First();
        var (bootstrapFile, controlFile) = (settings.BootstrapFile, settings.ControlFile);
        RunFiles.WriteAtomically(controlFile, controlUrl);
        RunFiles.WriteAtomically(bootstrapFile, cluster.BootstrapServers);
        app.Lifetime.ApplicationStopping.Register(() =>
        {
            RunFiles.DeleteIfUnchanged(bootstrapFile, cluster.BootstrapServers);
            RunFiles.DeleteIfUnchanged(controlFile, controlUrl);
        });

        app.Logger.LogInformation(
            "Kafka mock cluster up: {Brokers} brokers at {BootstrapServers} (librdkafka {Version} from {Library}); topics {Topics}; control API {ControlUrl}; wrote {BootstrapFile} and {ControlFile}",
            cluster.BrokerCount, cluster.BootstrapServers, Confluent.Kafka.Library.VersionString, Librdkafka.LoadedPath,
            string.Join(", ", cluster.State().Topics.Select(t => $"{t.Name}:{t.Partitions}:{t.ReplicationFactor}")),
            controlUrl, bootstrapFile, controlFile);

        var trimmer = new ConsumedTrimmer(cluster, settings.Trims, TimeSpan.FromMilliseconds(settings.TrimIntervalMs),
            app.Services.GetRequiredService<ILogger<ConsumedTrimmer>>());
        var trimming = trimmer.RunAsync(app.Lifetime.ApplicationStopping);

        await app.WaitForShutdownAsync(CancellationToken.None);
        await trimming;
        return 0;
    }
}
