package dev.resilience.spring;

import dev.resilience.context.Context;
import dev.resilience.context.DeadlineExceededException;
import dev.resilience.context.DeadlineHeaders;
import dev.resilience.core.Pipeline;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.http.HttpPolicy;
import dev.resilience.spring.internal.EnvironmentConfiguration;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.http.HttpRequest;
import org.springframework.http.client.ClientHttpRequestExecution;
import org.springframework.http.client.ClientHttpRequestInterceptor;
import org.springframework.http.client.ClientHttpResponse;

/**
 * Guards for Spring's HTTP clients, from the registry's configured pipelines: a bean the starter
 * defines when spring-web is present.
 *
 * <pre>{@code
 * @Bean
 * RestClient payments(RestClient.Builder builder, ResilienceHttp http) {
 *     return builder.baseUrl("http://payments").requestInterceptor(http.interceptor("payments")).build();
 * }
 * }</pre>
 *
 * <p>Names are matched as Spring matches the keys they come from ({@code paymentsApi} and
 * {@code paymentsapi} are one name). The interceptor runs each request through the pipeline itself (its listeners, and so
 * its meters, see every request: {@link HttpPolicy.Builder#pipeline}), in the pipeline's order, with
 * HTTP's classification of outcomes: connection errors, 5xx
 * and 429 are failures; other statuses are results; after the last attempt the caller gets the
 * last response, as from a plain client (a {@code RestClient} then throws for its status as
 * usual). Only idempotent methods are retried. Each attempt carries the current deadline as
 * {@code grpc-timeout}. Add it as the last interceptor: a retry executes the rest of the chain
 * again. Refusals ({@code CallNotPermittedException}, {@code RequestNotPermittedException},
 * {@code BulkheadFullException}) and the context's end are thrown as they are.
 */
public final class ResilienceHttp {

    private static final HttpPolicy.Responses<ClientHttpResponse> RESPONSES = new HttpPolicy.Responses<>() {
        @Override
        public int status(ClientHttpResponse response) {
            try {
                return response.getStatusCode().value();
            } catch (IOException e) {
                return 502; // the status line could not be read: a failure like a connection error
            }
        }

        @Override
        public String header(ClientHttpResponse response, String name) {
            return response.getHeaders().getFirst(name);
        }

        @Override
        public void discard(ClientHttpResponse response) {
            response.close();
        }
    };

    private static final ClientHttpRequestInterceptor DEADLINE = (request, body, execution) -> {
        putDeadline(request);
        return execution.execute(request, body);
    };

    private final ResilienceRegistry registry;
    private final Map<String, HttpPolicy> policies = new ConcurrentHashMap<>();

    /**
     * Guards from {@code registry}'s pipelines.
     *
     * @throws NullPointerException if {@code registry} is null
     */
    public ResilienceHttp(ResilienceRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /**
     * The HTTP policy of pipeline {@code name} (built on first request, then cached).
     *
     * @throws dev.resilience.core.ConfigurationException if the pipeline cannot be built
     * @throws NullPointerException if {@code name} is null
     */
    public HttpPolicy policy(String name) {
        Objects.requireNonNull(name, "name");
        HttpPolicy p = policies.get(name);
        if (p == null) {
            Pipeline<Object> pipeline = registry.pipeline(EnvironmentConfiguration.canonicalName(name));
            // the pipeline itself, so its listeners (the registry's meters) and ticker see the calls
            p = policies.computeIfAbsent(name, n -> HttpPolicy.builder(n).pipeline(pipeline).build());
        }
        return p;
    }

    /**
     * An interceptor for {@code RestClient.Builder.requestInterceptor} or a {@code RestTemplate}'s
     * interceptors that runs requests through pipeline {@code name} (see the class comment).
     *
     * @throws dev.resilience.core.ConfigurationException if the pipeline cannot be built
     * @throws NullPointerException if {@code name} is null
     */
    public ClientHttpRequestInterceptor interceptor(String name) {
        HttpPolicy policy = policy(name);
        return (request, body, execution) -> execute(policy, request, body, execution);
    }

    /**
     * An interceptor that only sends the current context's deadline as {@code grpc-timeout} (and
     * refuses to send a request whose context is already done); the starter adds it to every
     * {@code RestClient} and {@code RestTemplate} built from Spring's builders unless
     * {@code resilience.spring.client.propagate-deadline=false}.
     */
    public static ClientHttpRequestInterceptor deadlinePropagation() {
        return DEADLINE;
    }

    private static ClientHttpResponse execute(HttpPolicy policy, HttpRequest request, byte[] body,
            ClientHttpRequestExecution execution) throws IOException {
        try {
            return policy.execute(request.getMethod().name(), true, () -> {
                putDeadline(request);
                return execution.execute(request, body);
            }, RESPONSES);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException io = new InterruptedIOException("interrupted while waiting to retry");
            io.initCause(e);
            throw io;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    private static void putDeadline(HttpRequest request) {
        Context context = Context.current();
        context.throwIfDone();
        if (context.deadline().isEmpty()) {
            return;
        }
        long remaining = context.remainingNanos();
        if (remaining <= 0) {
            context.throwIfDone();
            throw new DeadlineExceededException();
        }
        request.getHeaders().set(DeadlineHeaders.GRPC_TIMEOUT, DeadlineHeaders.encodeGrpcTimeout(remaining));
    }
}
