/** OkHttp 5: an application interceptor that runs calls through an {@code HttpPolicy} and carries the deadline. */
package dev.resilience.http.okhttp;
