namespace Inference.Engine.Scheduling;

/// <summary>
/// Whether a request should wait for a prompt that another sequence is still evaluating instead of
/// starting now. Requests admitted together (n samples of one prompt, clients sharing a system
/// prompt) would otherwise each evaluate the shared tokens; waiting lets them fork the first
/// one's KV cells once it has them, so the shared part is evaluated once.
/// Lengths are prompt tokens a request could reuse, already capped at its prompt length − 1
/// (its last token is always evaluated for logits).
/// </summary>
internal static class PromptSharing
{
    /// <summary>
    /// A newcomer waits only for a gain worth a step's delay: this many tokens, or its whole
    /// prompt (identical prompts always share, however short, so n samples cost one prefill).
    /// </summary>
    public const int MinGain = 16;

    /// <param name="promptLength">The request's prompt tokens.</param>
    /// <param name="reusableNow">Tokens it could reuse if it started now (cache or running KV cells).</param>
    /// <param name="reusableLater">Tokens it could reuse once the prompts being evaluated are done.</param>
    public static bool ShouldDefer(int promptLength, int reusableNow, int reusableLater)
    {
        int gain = reusableLater - reusableNow;
        return gain >= MinGain || (gain > 0 && reusableLater >= promptLength - 1);
    }

    /// <summary>
    /// A request already waiting starts once nothing more can be gained: the leader has evaluated
    /// the shared part (or went away). Using the threshold here again would start it a few tokens
    /// short of the shared prefix and evaluate those tokens twice.
    /// </summary>
    public static bool ShouldKeepWaiting(int reusableNow, int reusableLater) => reusableLater > reusableNow;

    /// <summary>
    /// Whether <paramref name="shared"/> tokens of a prompt held by other KV cells are worth reusing: a copy of a
    /// whole KV stream, or a cached entry given up past them, costs more than evaluating a few tokens (a BOS token
    /// in common). The same bar keeps a cancelled sequence's cells for a waiting request to start from.
    /// </summary>
    public static bool WorthReusing(int shared, int promptLength) => shared > 0 && shared >= Math.Min(MinGain, promptLength - 1);
}
