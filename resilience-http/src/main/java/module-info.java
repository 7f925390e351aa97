/**
 * The toolkit over HTTP: {@link dev.resilience.http.ResilientHttpClient} guards
 * {@code java.net.http.HttpClient} calls, and {@link dev.resilience.http.HttpDeadlines} puts the
 * current context's deadline on outgoing requests. Kept apart so that resilience-context and
 * resilience-core need nothing beyond {@code java.base}.
 */
module dev.resilience.http {
    requires transitive dev.resilience.core;
    requires transitive java.net.http;

    exports dev.resilience.http;
}
