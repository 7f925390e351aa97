/**
 * The toolkit over gRPC: {@link dev.resilience.grpc.GrpcResilience} client and server interceptors
 * carry the context's deadline and cancellation across calls, and guard unary calls with the
 * toolkit's policies. grpc-java is the user's own dependency.
 */
module dev.resilience.grpc {
    requires transitive dev.resilience.core;
    requires static io.grpc;

    exports dev.resilience.grpc;
}
