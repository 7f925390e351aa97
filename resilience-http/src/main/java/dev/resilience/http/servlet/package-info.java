/** Jakarta Servlet 6: a filter that runs each request under the caller's deadline. */
package dev.resilience.http.servlet;
