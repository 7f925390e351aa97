/**
 * Jakarta Servlet 6: a filter that runs each request under the caller's deadline
 * ({@link dev.resilience.http.servlet.DeadlineFilter}), and one that sheds load with an adaptive
 * concurrency limit per route ({@link dev.resilience.http.servlet.AdaptiveLimitFilter}).
 */
package dev.resilience.http.servlet;
