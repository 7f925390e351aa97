/** gRPC client and server interceptors carrying the toolkit's deadlines, cancellation and guards. */
package dev.resilience.grpc;
