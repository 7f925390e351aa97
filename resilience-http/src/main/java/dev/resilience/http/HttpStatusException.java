package dev.resilience.http;

import dev.resilience.core.CallNotPermittedException;
import dev.resilience.core.Fallback;
import java.net.http.HttpResponse;

/**
 * An HTTP response that {@link ResilientHttpClient} counts as a failure (5xx, 429) while it decides
 * whether to retry, and feeds to the breaker. By default it never reaches the caller: when the client
 * stops, the caller gets the last response itself, as from a plain {@code HttpClient}. With
 * {@link ResilientHttpClient.Builder#throwOnFailingStatus()} the caller gets this exception instead,
 * for a {@link Fallback} to select:
 *
 * <pre>{@code
 * Fallback<HttpResponse<String>> cached = Fallback.<HttpResponse<String>>on(HttpStatusException.class,
 *         IOException.class, CallNotPermittedException.class).to(e -> lastGood.get());
 * HttpResponse<String> r = cached.call(() -> http.send(request, BodyHandlers.ofString()));
 * }</pre>
 */
public final class HttpStatusException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient HttpResponse<?> response;

    HttpStatusException(HttpResponse<?> response) {
        super("HTTP " + response.statusCode() + " from " + response.request().method() + " " + response.uri(), null,
                false, false);
        this.response = response;
    }

    /** The response. */
    public HttpResponse<?> response() {
        return response;
    }

    /** Its status code. */
    public int statusCode() {
        return response.statusCode();
    }
}
