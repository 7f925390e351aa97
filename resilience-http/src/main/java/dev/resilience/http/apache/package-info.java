/** Apache HttpClient 5: exec chain handlers (classic and async) that run requests through an {@code HttpPolicy} and carry the deadline. */
package dev.resilience.http.apache;
