/**
 * Apache HttpClient 5: exec chain handlers that run requests through an
 * {@link dev.resilience.http.HttpPolicy} and carry the caller's deadline, for the classic client
 * ({@link dev.resilience.http.apache.ResilienceExecHandler}) and the async client
 * ({@link dev.resilience.http.apache.ResilienceAsyncExecHandler}). Each handler's {@code install}
 * turns off the client's own retries and puts the handler first in the exec chain.
 */
package dev.resilience.http.apache;
