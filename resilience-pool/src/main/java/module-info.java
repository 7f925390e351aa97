/** Lock-free queues, recycler, object pool and worker pool (issue 5). */
module dev.resilience.pool {
    requires transitive dev.resilience.context;

    exports dev.resilience.pool;
}
