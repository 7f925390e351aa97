/**
 * Deadline-propagating, cancellable contexts with Go {@code context} semantics, and the toolkit's one
 * time seam, {@link dev.resilience.context.Ticker}.
 */
@SuppressWarnings("module") // the qualified export names modules built after this one
module dev.resilience.context {
    exports dev.resilience.context;
    // The argument checks and listener lists the toolkit's modules share; not API.
    exports dev.resilience.context.internal to dev.resilience.core, dev.resilience.http, dev.resilience.pool,
            dev.resilience.redis, dev.resilience.grpc, dev.resilience.spring;
}
