using System.Diagnostics;
using System.Net.Sockets;
using StackExchange.Redis;

namespace FlashSale.Tests.Infrastructure;

/// <summary>
/// A Redis Cluster of a test's own: three masters on free ports (<see cref="PrivateRedis"/> cluster nodes, persisting
/// only the snapshots the test takes), joined with <c>redis-cli --cluster create</c> as dev/services.sh joins the dev
/// cluster, and optionally a replica of the first master. A master killed and started again comes back from its last
/// snapshot as the same master of the same slots.
/// </summary>
public sealed class PrivateCluster(bool withReplica = false) : IAsyncDisposable
{
    public IReadOnlyList<PrivateRedis> Masters { get; } = [new(clusterNode: true), new(clusterNode: true), new(clusterNode: true)];

    /// <summary>A replica of <c>Masters[0]</c>, when asked for.</summary>
    public PrivateRedis? Replica { get; } = withReplica ? new PrivateRedis(clusterNode: true) : null;

    private IEnumerable<PrivateRedis> Nodes => Replica is null ? Masters : [.. Masters, Replica];

    /// <summary>The engine's ConnectionStrings:Redis: every master (StackExchange.Redis finds the replica).</summary>
    public string ConnectionString => string.Join(",", Masters.Select(m => m.Endpoint));

    public async Task StartAsync()
    {
        foreach (var node in Nodes)
        {
            await node.StartAsync();
        }
        await RedisCliAsync(["--cluster", "create", .. Masters.Select(m => m.Endpoint), "--cluster-replicas", "0", "--cluster-yes"]);
        if (Replica is not null)
        {
            var masterId = await Masters[0].ExecuteAsync("CLUSTER", "MYID");
            await RedisCliAsync(["--cluster", "add-node", Replica.Endpoint, Masters[0].Endpoint, "--cluster-slave", "--cluster-master-id", masterId]);
        }
        await WaitHealthyAsync();
    }

    /// <summary>
    /// Every node (of <paramref name="nodes"/>, default all) sees every slot served and every node known, and, when all are
    /// checked, the replica follows its master.
    /// </summary>
    public async Task WaitHealthyAsync(IEnumerable<PrivateRedis>? nodes = null)
    {
        var expected = Nodes.Count();
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                foreach (var node in nodes ?? Nodes)
                {
                    if (await node.InfoAsync("cluster", "cluster_enabled") != "1")
                    {
                        return false;
                    }
                    var info = await node.ExecuteAsync("CLUSTER", "INFO");
                    if (!info.Contains("cluster_state:ok", StringComparison.Ordinal) || !info.Contains($"cluster_known_nodes:{expected}", StringComparison.Ordinal))
                    {
                        return false;
                    }
                }
                // A replica only while it is one: after a takeover it is a master.
                return Replica is null || nodes is not null || await Replica.InfoAsync("replication", "master_link_status") == "up";
            }
            catch (Exception e) when (e is IOException or SocketException or RedisException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30));
    }

    /// <summary>The node listening on <paramref name="endPoint"/> (host:port as the cluster names it).</summary>
    public PrivateRedis Node(string endPoint) => Nodes.Single(n => n.Endpoint == endPoint);

    private static async Task RedisCliAsync(string[] arguments)
    {
        var info = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await errors}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
