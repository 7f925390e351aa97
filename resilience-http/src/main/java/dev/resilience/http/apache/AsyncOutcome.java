package dev.resilience.http.apache;

import dev.resilience.http.HttpPolicy;
import java.util.List;
import org.apache.hc.core5.http.EntityDetails;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpResponse;

/**
 * The outcome of one async attempt as the policy sees it: a response whose head and body went to the
 * caller's callback as they arrived ({@link #delivered}), or a failing response held back whole, to
 * be replayed to the callback if the policy does not retry it. Holds no connection either way.
 */
final class AsyncOutcome {

    /** Reads outcomes for the policy; discarding one frees nothing: a held-back body is just memory. */
    static final HttpPolicy.Responses<AsyncOutcome> RESPONSES = new HttpPolicy.Responses<>() {
        @Override
        public int status(AsyncOutcome outcome) {
            return outcome.head.getCode();
        }

        @Override
        public String header(AsyncOutcome outcome, String name) {
            Header h = outcome.head.getFirstHeader(name);
            return h == null ? null : h.getValue();
        }

        @Override
        public void discard(AsyncOutcome outcome) {
            // its connection went back to the pool when the body was read
        }

        /** A response already on its way to the caller's callback cannot be taken back: counted, not retried. */
        @Override
        public boolean retryable(AsyncOutcome outcome) {
            return !outcome.delivered;
        }
    };

    final HttpResponse head;
    /** The body's details, or null if the response has no body. */
    final EntityDetails details;
    final byte[] body;
    final int length;
    final List<? extends Header> trailers;
    /** The caller's callback has it already. */
    final boolean delivered;

    private AsyncOutcome(HttpResponse head, EntityDetails details, byte[] body, int length,
            List<? extends Header> trailers, boolean delivered) {
        this.head = head;
        this.details = details;
        this.body = body;
        this.length = length;
        this.trailers = trailers;
        this.delivered = delivered;
    }

    static AsyncOutcome delivered(HttpResponse head) {
        return new AsyncOutcome(head, null, null, 0, null, true);
    }

    static AsyncOutcome heldBack(HttpResponse head, EntityDetails details, byte[] body, int length,
            List<? extends Header> trailers) {
        return new AsyncOutcome(head, details, body, length, trailers, false);
    }
}
