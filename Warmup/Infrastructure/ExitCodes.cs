namespace FlashSale.Warmup.Infrastructure;

/// <summary>Distinct codes so that deployment scripts can tell a refusal from a failure.</summary>
internal static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>Unknown campaign, unreachable Redis or MariaDB, bad configuration.</summary>
    public const int Failed = 1;

    /// <summary>The campaign file is not valid JSON or not a valid definition.</summary>
    public const int Invalid = 2;

    /// <summary>A different definition already exists under the campaign id.</summary>
    public const int Conflict = 3;

    /// <summary>The campaign's stock is already live in Redis and --force was not given.</summary>
    public const int AlreadyLive = 4;

    /// <summary>Redis and MySQL disagree on some units (reconcile), after repairs when --repair was given.</summary>
    public const int Drift = 5;

    /// <summary>sysexits' EX_USAGE: a mistyped command line, as opposed to a failed operation.</summary>
    public const int Usage = 64;

    /// <summary>The shell's code for a process stopped by Ctrl+C (128 + SIGINT).</summary>
    public const int Cancelled = 130;
}
