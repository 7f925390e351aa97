/**
 * The toolkit over HTTP. Outbound: {@link dev.resilience.http.HttpPolicy} holds the policies and
 * the one classification of HTTP outcomes that every client adapter shares:
 * {@link dev.resilience.http.ResilientHttpClient} ({@code java.net.http}),
 * {@code dev.resilience.http.okhttp} (OkHttp 5) and {@code dev.resilience.http.apache} (Apache
 * HttpClient 5). Inbound: {@link dev.resilience.http.InboundDeadlines} turns a caller's deadline
 * header into the request's context, for servlet containers ({@code dev.resilience.http.servlet})
 * and the JDK's {@code HttpServer} ({@code dev.resilience.http.jdkserver}); for servlet containers,
 * {@code dev.resilience.http.servlet.AdaptiveLimitFilter} also sheds load with an adaptive
 * concurrency limit per route. Every client's or
 * server's library is optional: a service that uses only OkHttp needs no Apache or servlet classes.
 */
// Apache HttpClient 5 has no module descriptor, only automatic module names: required statically.
@SuppressWarnings("requires-automatic")
module dev.resilience.http {
    requires transitive dev.resilience.core;
    requires transitive java.net.http;
    requires static okhttp3;
    requires static kotlin.stdlib;
    requires static org.apache.httpcomponents.client5.httpclient5;
    requires static org.apache.httpcomponents.core5.httpcore5;
    requires static jakarta.servlet;
    requires static jdk.httpserver;

    exports dev.resilience.http;
    exports dev.resilience.http.okhttp;
    exports dev.resilience.http.apache;
    exports dev.resilience.http.servlet;
    exports dev.resilience.http.jdkserver;
}
