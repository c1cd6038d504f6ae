using MySqlConnector;

namespace FlashSale.Engine.Storage;

/// <summary>
/// InnoDB resolves a deadlock by rolling one transaction back; the right answer is to run it again.
/// Conditional updates make every retried transaction in the engine safe to repeat.
/// </summary>
public static class Deadlocks
{
    private const int Attempts = 5;

    public static async Task<T> RetryAsync<T>(Func<Task<T>> transaction, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await transaction();
            }
            catch (MySqlException ex) when (attempt < Attempts && ex.ErrorCode is MySqlErrorCode.LockDeadlock or MySqlErrorCode.LockWaitTimeout)
            {
                await Task.Delay(Random.Shared.Next(5, 20 * attempt), cancellationToken);
            }
        }
    }
}
