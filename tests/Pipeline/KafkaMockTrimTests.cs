using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using FlashSale.Engine.Kafka;
using FlashSale.Tests.Infrastructure;

namespace FlashSale.Tests.Pipeline;

/// <summary>
/// The dev Kafka mock's retention by consumption (<c>--trim-consumed</c>): a listed group's committed records go, what
/// it has not committed stays readable, and a topic nobody listed keeps everything. A mock process of the test's own,
/// so the shared one's topics are untouched.
/// </summary>
[Trait("Category", "Slow")]
public sealed class KafkaMockTrimTests : IAsyncLifetime, IDisposable
{
    private const string Trimmed = "trim.t";
    private const string Kept = "keep.t";
    private const string Group = "trim-group";

    private readonly string _run = Directory.CreateTempSubdirectory("flashsale-mock-").FullName;
    private readonly StringBuilder _log = new();
    private Process? _mock;
    private string _bootstrap = "";

    public async Task InitializeAsync()
    {
        Librdkafka.EnsureLoaded();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])[ToolProcess.Dll("dev/KafkaMock", "FlashSale.KafkaMock.dll"),
            "--brokers", "1", "--control-url", "http://127.0.0.1:0",
            "--bootstrap-file", Path.Combine(_run, "bootstrap"), "--control-file", Path.Combine(_run, "control"),
            "--topic", $"{Trimmed}:1:1", "--topic", $"{Kept}:1:1",
            "--trim-consumed", $"{Group}@{Trimmed}", "--trim-interval-ms", "200"])
        {
            info.ArgumentList.Add(argument);
        }
        _mock = new Process { StartInfo = info };
        _mock.OutputDataReceived += (_, e) => Append(e.Data);
        _mock.ErrorDataReceived += (_, e) => Append(e.Data);
        _mock.Start();
        _mock.BeginOutputReadLine();
        _mock.BeginErrorReadLine();
        var bootstrapFile = Path.Combine(_run, "bootstrap");
        await Eventually.HoldsAsync(() => File.Exists(bootstrapFile) || _mock.HasExited, TimeSpan.FromSeconds(60));
        Assert.True(File.Exists(bootstrapFile), $"the mock did not start:\n{Log()}");
        _bootstrap = File.ReadAllText(bootstrapFile).Trim();
    }

    public async Task DisposeAsync()
    {
        if (_mock is { HasExited: false })
        {
            _mock.Kill(entireProcessTree: true);
            await _mock.WaitForExitAsync();
        }
        Directory.Delete(_run, recursive: true);
    }

    public void Dispose() => _mock?.Dispose();

    [Fact]
    public async Task RecordsTheGroupCommittedPastGoAndTheRestStayReadable()
    {
        await ProduceAsync(Kept, 100);
        await ProduceAsync(Trimmed, 100);
        using (var consumer = Consumer())
        {
            // The untrimmed topic's commit first: the tick that trims the other one has seen it too.
            consumer.Commit([new TopicPartitionOffset(Kept, 0, 60), new TopicPartitionOffset(Trimmed, 0, 60)]);
        }

        using var admin = Consumer();
        await Eventually.HoldsAsync(() => admin.QueryWatermarkOffsets(new TopicPartition(Trimmed, 0), TimeSpan.FromSeconds(5)).Low == 60,
            TimeSpan.FromSeconds(30));
        Assert.Equal(100, admin.QueryWatermarkOffsets(new TopicPartition(Trimmed, 0), TimeSpan.FromSeconds(5)).High.Value);
        Assert.Equal(0, admin.QueryWatermarkOffsets(new TopicPartition(Kept, 0), TimeSpan.FromSeconds(5)).Low.Value);

        // The group goes on from its committed offset and finds every record it has not consumed.
        using var reader = Consumer();
        reader.Assign(new TopicPartitionOffset(Trimmed, 0, Offset.Stored));
        var values = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (values.Count < 40 && DateTime.UtcNow < deadline)
        {
            if (reader.Consume(TimeSpan.FromMilliseconds(500)) is { Message: { } message })
            {
                values.Add(message.Value);
            }
        }
        Assert.Equal(Enumerable.Range(60, 40).Select(i => $"record-{i}"), values);
    }

    private async Task ProduceAsync(string topic, int count)
    {
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = _bootstrap, LingerMs = 0 }).Build();
        for (var i = 0; i < count; i++)
        {
            await producer.ProduceAsync(new TopicPartition(topic, 0), new Message<Null, string> { Value = $"record-{i}" });
        }
    }

    private IConsumer<Ignore, string> Consumer() => new ConsumerBuilder<Ignore, string>(new ConsumerConfig
    {
        BootstrapServers = _bootstrap,
        GroupId = Group,
        EnableAutoCommit = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
    }).Build();

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private string Log()
    {
        lock (_log)
        {
            return _log.ToString();
        }
    }
}
