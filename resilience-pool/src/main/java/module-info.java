/** Lock-free queues, a recycler, an object pool and a worker pool. */
module dev.resilience.pool {
    requires transitive dev.resilience.context;

    exports dev.resilience.pool;
}
