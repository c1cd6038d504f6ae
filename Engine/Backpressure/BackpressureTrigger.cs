namespace FlashSale.Engine.Backpressure;

/// <summary>
/// One cause of backpressure: fires when its value goes above the threshold and clears once it is back at or below
/// <c>resumeRatio</c> × the threshold. A threshold of 0 never fires. Updated by one thread, read by any.
/// </summary>
public sealed class BackpressureTrigger(string name, double threshold, double resumeRatio)
{
    private volatile bool _active;

    public string Name { get; } = name;

    public double Threshold { get; } = threshold;

    public bool Active => _active;

    /// <summary>The last value measured; null until the first measurement (or while it cannot be measured).</summary>
    public double? Value { get; private set; }

    /// <summary>Takes a measurement; true when the trigger changed state.</summary>
    public bool Update(double value)
    {
        Value = value;
        var active = Threshold > 0 && (_active ? value > Threshold * resumeRatio : value > Threshold);
        if (active == _active)
        {
            return false;
        }
        _active = active;
        return true;
    }
}
