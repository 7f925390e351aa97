/** The JDK's {@code com.sun.net.httpserver.HttpServer}: a filter that runs each exchange under the caller's deadline. */
package dev.resilience.http.jdkserver;
