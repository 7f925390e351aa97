package dev.resilience.grpc;

/** Entry point of the gRPC adapters (being built: issue 18). */
public final class GrpcResilience {
    private GrpcResilience() {
    }
}
