/**
 * The toolkit over gRPC: {@link dev.resilience.grpc.ResilienceClientInterceptor} and
 * {@link dev.resilience.grpc.ResilienceServerInterceptor} carry the context's deadline and
 * cancellation across calls, and guard unary calls with the toolkit's policies;
 * {@link dev.resilience.grpc.AdaptiveLimitServerInterceptor} sheds inbound load with an adaptive
 * concurrency limit per method or service. grpc-java is the user's own dependency.
 */
// grpc-api ships no module-info, only the Automatic-Module-Name io.grpc; its types are in this API.
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.resilience.grpc {
    requires transitive dev.resilience.core;
    requires static transitive io.grpc;

    exports dev.resilience.grpc;
}
