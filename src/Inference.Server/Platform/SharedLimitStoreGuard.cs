using System.Threading.RateLimiting;

namespace Inference.Server.Platform;

/// <summary>
/// Wraps a limiter whose counts live in Redis: a Redis error or a wait past the timeout becomes
/// either a granted lease (fail open) or a <see cref="StoreUnavailableLease"/> (fail closed), which
/// the rejection handler answers with 503. Without it a Redis outage would be a 500 on every /ai request.
/// </summary>
public sealed class SharedLimitStoreGuard(RateLimiter inner, TimeSpan timeout, bool failOpen, ILogger logger) : RateLimiter
{
    public override TimeSpan? IdleDuration => inner.IdleDuration;

    public override RateLimiterStatistics? GetStatistics() => inner.GetStatistics();

    // The middleware tries a synchronous attempt first and, when it is refused, acquires asynchronously;
    // a synchronous attempt cannot ask Redis without blocking, so it is always refused here.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => NotYet.Instance;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        try
        {
            return await inner.AcquireAsync(permitCount, cancellationToken).AsTask().WaitAsync(timeout, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return Unavailable(e);
        }
    }

    private RateLimitLease Unavailable(Exception error)
    {
        logger.LogWarning("Redis rate-limit store unavailable ({Error}); request {Outcome}",
            error.GetType().Name + ": " + error.Message, failOpen ? "let through uncounted (Platform:Redis:FailOpen)" : "refused with 503");
        return failOpen ? GrantedLease.Instance : new StoreUnavailableLease();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
    }

    protected override async ValueTask DisposeAsyncCore() => await inner.DisposeAsync();

    private sealed class NotYet : RateLimitLease
    {
        public static readonly NotYet Instance = new();
        public override bool IsAcquired => false;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata) => (metadata = null) is not null;
    }

    private sealed class GrantedLease : RateLimitLease
    {
        public static readonly GrantedLease Instance = new();
        public override bool IsAcquired => true;
        public override IEnumerable<string> MetadataNames => [];
        public override bool TryGetMetadata(string metadataName, out object? metadata) => (metadata = null) is not null;
    }
}

/// <summary>A refusal because the shared limit store could not be asked, not because the user is over the limit.</summary>
public sealed class StoreUnavailableLease : RateLimitLease
{
    public override bool IsAcquired => false;
    public override IEnumerable<string> MetadataNames => [];
    public override bool TryGetMetadata(string metadataName, out object? metadata) => (metadata = null) is not null;
}
