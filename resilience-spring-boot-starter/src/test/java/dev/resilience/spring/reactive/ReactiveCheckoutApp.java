package dev.resilience.spring.reactive;

import dev.resilience.context.Context;
import dev.resilience.context.Registration;
import dev.resilience.observability.ResilienceContextAccessor;
import dev.resilience.spring.DeadlineWebFilter;
import dev.resilience.spring.ResilienceWebClient;
import dev.resilience.spring.annotation.Bulkhead;
import dev.resilience.spring.annotation.Retry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.stereotype.Service;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;

/**
 * The WebFlux application the reactive tests start (with {@code spring.main.web-application-type=reactive}:
 * Spring MVC is on the test class path too): a checkout that pays through a flaky dependency with
 * {@code WebClient}s, plain and guarded, and an annotated service returning {@code Mono}.
 */
@SpringBootApplication
public class ReactiveCheckoutApp {

    /** A plain client: the starter's customizer adds the deadline. */
    @Bean
    WebClient paymentsClient(WebClient.Builder builder, @Value("${payments.url}") String url) {
        return builder.baseUrl(url).build();
    }

    /** One connection: a retried response whose body were not released would block the next attempt. */
    @Bean(destroyMethod = "dispose")
    ConnectionProvider guardedConnections() {
        return ConnectionProvider.builder("guarded").maxConnections(1)
                .pendingAcquireTimeout(Duration.ofSeconds(5)).build();
    }

    /** Guarded by pipeline "payments" (its retry and breaker). */
    @Bean
    WebClient guardedPaymentsClient(WebClient.Builder builder, ResilienceWebClient resilience,
            @Qualifier("guardedConnections") ConnectionProvider connections, @Value("${payments.url}") String url) {
        return builder.baseUrl(url).clientConnector(new ReactorClientHttpConnector(HttpClient.create(connections)))
                .filter(resilience.exchangeFilter("payments")).build();
    }

    /** Guarded by pipeline "slowpay" (a retry around a per-attempt timeout). */
    @Bean
    WebClient slowPaymentsClient(WebClient.Builder builder, ResilienceWebClient resilience,
            @Value("${payments.url}") String url) {
        return builder.baseUrl(url).filter(resilience.exchangeFilter("slowpay")).build();
    }

    /** Guarded by pipeline "impatient" (a retry around a bulkhead of one). */
    @Bean
    WebClient impatientPaymentsClient(WebClient.Builder builder, ResilienceWebClient resilience,
            @Value("${payments.url}") String url) {
        return builder.baseUrl(url).filter(resilience.exchangeFilter("impatient")).build();
    }

    /** Annotated methods returning Mono; its counters are read through methods (the bean is a class proxy). */
    @Service
    public static class ReactivePayments {
        private final AtomicInteger fallbacks = new AtomicInteger();
        private final AtomicInteger slowStarted = new AtomicInteger();
        private final AtomicInteger slowCancelled = new AtomicInteger();
        private final WebClient client;

        ReactivePayments(@Qualifier("paymentsClient") WebClient paymentsClient) {
            this.client = paymentsClient;
        }

        /** How many calls the fallback answered. */
        public int fallbacks() {
            return fallbacks.get();
        }

        /** How many times {@link #slow()} was called. */
        public int slowStarted() {
            return slowStarted.get();
        }

        /** How many of {@link #slow()}'s Monos were cancelled. */
        public int slowCancelled() {
            return slowCancelled.get();
        }

        /** Retried by "reactive"; the fallback answers when every attempt failed. */
        @Retry(name = "reactive", fallbackMethod = "queued")
        public Mono<String> pay() {
            return client.get().uri("/pay").retrieve().bodyToMono(String.class);
        }

        Mono<String> queued(Exception failed) {
            fallbacks.incrementAndGet();
            return Mono.just("queued after " + failed.getClass().getSimpleName());
        }

        /**
         * Pays {@code n} orders in turn, as a stream: retried by "reactive" only before its first
         * receipt reaches the subscriber; the fallback's element follows any receipts already sent.
         */
        @Retry(name = "reactive", fallbackMethod = "queuedAll")
        public Flux<String> payAll(int n) {
            return Flux.range(1, n).concatMap(i -> client.get().uri("/pay").retrieve().bodyToMono(String.class));
        }

        Flux<String> queuedAll(int n, Exception failed) {
            fallbacks.incrementAndGet();
            return Flux.just("queued after " + failed.getClass().getSimpleName());
        }

        /** Never answers; holds the one slot of bulkhead "slow" while it runs. */
        @Retry(name = "slow")
        @Bulkhead(name = "slow")
        public Mono<String> slow() {
            slowStarted.incrementAndGet();
            return Mono.<String>never().doOnCancel(slowCancelled::incrementAndGet);
        }
    }

    @RestController
    public static class Checkout {
        public final AtomicInteger handled = new AtomicInteger();
        public final AtomicReference<Context> remembered = new AtomicReference<>();
        private final WebClient payments;
        private final WebClient guarded;
        private final WebClient slowGuarded;
        private final WebClient impatient;
        private final ReactivePayments reactive;

        Checkout(@Qualifier("paymentsClient") WebClient paymentsClient,
                @Qualifier("guardedPaymentsClient") WebClient guardedPaymentsClient,
                @Qualifier("slowPaymentsClient") WebClient slowPaymentsClient,
                @Qualifier("impatientPaymentsClient") WebClient impatientPaymentsClient, ReactivePayments reactive) {
            this.payments = paymentsClient;
            this.guarded = guardedPaymentsClient;
            this.slowGuarded = slowPaymentsClient;
            this.impatient = impatientPaymentsClient;
            this.reactive = reactive;
        }

        /** The plain client calling the slow endpoint: the request's deadline ends the exchange. */
        @GetMapping("/checkout-slow")
        Mono<String> checkoutSlow() {
            return payments.get().uri("/slow").retrieve().bodyToMono(String.class)
                    .onErrorResume(e -> Mono.just("error " + e.getClass().getSimpleName()));
        }

        /** The "slowpay" client calling the slow endpoint: each attempt ends at its timeout. */
        @GetMapping("/guarded-slow")
        Mono<String> guardedSlow() {
            return slowGuarded.get().uri("/slow").retrieve().bodyToMono(String.class)
                    .onErrorResume(e -> Mono.just("error " + e.getClass().getSimpleName()));
        }

        @GetMapping("/checkout")
        Mono<String> checkout() {
            return payments.get().uri("/pay").retrieve().bodyToMono(String.class);
        }

        /** The guarded client's outcome: the status and body it returned, or the error's type. */
        @GetMapping("/guarded")
        Mono<String> guarded() {
            return guarded.get().uri("/pay")
                    .exchangeToMono(r -> r.bodyToMono(String.class).defaultIfEmpty("")
                            .map(body -> r.statusCode().value() + " " + body))
                    .onErrorResume(e -> Mono.just("error " + e.getClass().getSimpleName()));
        }

        /** The "impatient" client calling the slow endpoint, given up on after 300 ms: the subscriber cancels. */
        @GetMapping("/guarded-impatient")
        Mono<String> guardedImpatient() {
            return impatient.get().uri("/slow").retrieve().bodyToMono(String.class)
                    .timeout(Duration.ofMillis(300), Mono.just("gave up"))
                    .onErrorResume(e -> Mono.just("error " + e.getClass().getSimpleName()));
        }

        /** Three payments streamed as they are made, each followed by ';'. */
        @GetMapping("/flux-pay")
        Flux<String> fluxPay() {
            return reactive.payAll(3).map(receipt -> receipt + ";");
        }

        @GetMapping("/mono-pay")
        Mono<String> monoPay() {
            return reactive.pay();
        }

        /** Gives up on the never-answering service after 200 ms: the subscriber cancels. */
        @GetMapping("/slow")
        Mono<String> slow() {
            return reactive.slow().timeout(Duration.ofMillis(200), Mono.just("gave up"))
                    .onErrorResume(e -> Mono.just("error " + e.getClass().getSimpleName()));
        }

        /** Waits (at most 5 s) for the thread's current context to end: the request's only with automatic propagation. */
        @GetMapping("/wait-for-deadline")
        Mono<String> waitForDeadline() {
            handled.incrementAndGet();
            return waitFor(Context.current());
        }

        /** Waits (at most 5 s) for the request's context, from the exchange attribute, to end. */
        @GetMapping("/wait-for-deadline-reactive")
        Mono<String> waitForDeadlineReactive(ServerWebExchange exchange) {
            handled.incrementAndGet();
            return waitFor(DeadlineWebFilter.context(exchange));
        }

        /** Which contexts the handler sees, compared with the exchange attribute's. */
        @GetMapping("/contexts")
        Mono<String> contexts(ServerWebExchange exchange) {
            Context request = DeadlineWebFilter.context(exchange);
            String thread = Context.current() == request ? "same" : Context.current() == Context.background()
                    ? "background" : "other";
            return Mono.deferContextual(view -> {
                Object reactor = view.getOrDefault(ResilienceContextAccessor.KEY, null);
                String inMap = Context.current() == request ? "same" : "other";
                return Mono.just("attribute=" + (request == Context.background() ? "none" : "set")
                        + " thread=" + thread + " reactor=" + (reactor == request ? "same" : "other")
                        + " operator=" + inMap);
            });
        }

        /** The request context's remaining time in ms, or "none". */
        @GetMapping("/remaining")
        Mono<String> remaining(ServerWebExchange exchange) {
            return Mono.just(DeadlineWebFilter.context(exchange).remaining()
                    .map(d -> Long.toString(d.toMillis())).orElse("none"));
        }

        /** Keeps the request's context, for the test to see it ended with the exchange. */
        @GetMapping("/remember")
        Mono<String> remember(ServerWebExchange exchange) {
            Context c = DeadlineWebFilter.context(exchange);
            remembered.set(c);
            return Mono.just(c.isDone() ? "done" : "running");
        }

        private static Mono<String> waitFor(Context context) {
            long start = System.nanoTime();
            long left = context.remainingNanos();
            return Mono.<String>create(sink -> {
                Registration r = context.onDone(() -> sink.success("done"), Runnable::run);
                sink.onDispose(r::remove);
            }).timeout(Duration.ofSeconds(5), Mono.just("not done"))
                    .map(s -> s + " after " + Duration.ofNanos(System.nanoTime() - start).toMillis() + " ms, "
                            + Duration.ofNanos(left).toMillis() + " ms left on entry");
        }
    }
}
