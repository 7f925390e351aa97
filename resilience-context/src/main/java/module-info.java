/**
 * Deadline-propagating, cancellable contexts with Go {@code context} semantics, and the toolkit's one
 * time seam, {@link dev.resilience.context.Ticker}.
 */
module dev.resilience.context {
    requires transitive java.net.http;

    exports dev.resilience.context;
}
