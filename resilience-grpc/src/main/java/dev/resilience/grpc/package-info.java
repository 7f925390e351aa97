/**
 * The toolkit over gRPC (grpc-java): {@link dev.resilience.grpc.ResilienceClientInterceptor} carries
 * the current context's deadline and cancellation into calls and runs unary calls through the
 * toolkit's policies; {@link dev.resilience.grpc.ResilienceServerInterceptor} makes the caller's
 * deadline and cancellation the handler's current context;
 * {@link dev.resilience.grpc.AdaptiveLimitServerInterceptor} sheds inbound load with an adaptive
 * concurrency limit per method or service; {@link dev.resilience.grpc.GrpcContexts}
 * bridges the toolkit's context and {@code io.grpc.Context} both ways; {@link dev.resilience.grpc.GrpcStatuses}
 * classifies gRPC outcomes for retries and breakers.
 */
package dev.resilience.grpc;
