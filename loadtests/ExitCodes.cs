namespace FlashSale.LoadTests;

public static class ExitCodes
{
    public const int Ok = 0;
    public const int InvariantFailed = 1;
    public const int Usage = 2;

    /// <summary>No valid result: the Ingress was not ready, refused the setup, or the harness itself failed.</summary>
    public const int SetupFailed = 3;
}
