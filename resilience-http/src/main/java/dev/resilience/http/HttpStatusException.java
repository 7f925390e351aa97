package dev.resilience.http;

import dev.resilience.core.Fallback;
import java.util.Objects;

/**
 * An HTTP response that an {@link HttpPolicy} counts as a failure (5xx, 429): thrown inside the
 * policy's pipeline so that the retry can retry it and the breaker can count it. It carries the
 * response of whichever client made the call ({@code java.net.http.HttpResponse}, OkHttp's
 * {@code Response}, Apache's {@code ClassicHttpResponse} or {@code SimpleHttpResponse}).
 *
 * <p>By default it never reaches the caller: when the policy stops, the caller gets the last
 * response itself, as from a plain client. {@link ResilientHttpClient} can throw it instead
 * ({@link ResilientHttpClient.Builder#throwOnFailingStatus()}), for a {@link Fallback} to select:
 *
 * <pre>{@code
 * Fallback<HttpResponse<String>> cached = Fallback.<HttpResponse<String>>on(HttpStatusException.class,
 *         IOException.class, CallNotPermittedException.class).to(e -> lastGood.get());
 * HttpResponse<String> r = cached.call(() -> http.send(request, BodyHandlers.ofString()));
 * }</pre>
 */
public final class HttpStatusException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final transient Object response;
    /** The {@code Retry-After} header of a 503 or 429, else null. */
    final transient String retryAfter;
    /** False when the response cannot be retried (its body already went to the caller). */
    transient boolean retryable = true;

    HttpStatusException(int status, String method, Object response, String retryAfter) {
        super("HTTP " + status + " from " + method, null, false, false);
        this.status = status;
        this.response = response;
        this.retryAfter = retryAfter;
    }

    /**
     * The response, of the client's own type: {@code java.net.http.HttpResponse} from
     * {@link ResilientHttpClient}, {@code okhttp3.Response} from OkHttp, an Apache
     * {@code HttpResponse} from Apache HttpClient.
     */
    public Object response() {
        return response;
    }

    /**
     * The response as {@code type}.
     *
     * @throws ClassCastException if the response is not a {@code type}
     */
    public <R> R response(Class<R> type) {
        return Objects.requireNonNull(type, "type").cast(response);
    }

    /** Its status code. */
    public int statusCode() {
        return status;
    }
}
