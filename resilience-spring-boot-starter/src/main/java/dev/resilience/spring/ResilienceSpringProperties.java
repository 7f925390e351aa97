package dev.resilience.spring;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The starter's own settings, under {@code resilience.spring}: what it registers in the
 * application. The named instances are configured beside them, under {@code resilience.<kind>}
 * (see {@link ResilienceInstanceProperties}).
 */
@ConfigurationProperties(prefix = "resilience.spring", ignoreUnknownFields = false)
public class ResilienceSpringProperties {

    private final Inbound inbound = new Inbound();
    private final Client client = new Client();
    private final Endpoint endpoint = new Endpoint();
    private final Health health = new Health();
    private final Metrics metrics = new Metrics();
    /** What a task handed to Spring's task executors ({@code @Async}, {@code ThreadPoolTaskExecutor}) carries of the caller's context. */
    private TaskContext taskContext = TaskContext.VALUES;
    private final Cloud cloud = new Cloud();

    /** Creates the defaults. */
    public ResilienceSpringProperties() {
    }

    /** @return the inbound deadline filter's settings */
    public Inbound getInbound() {
        return inbound;
    }

    /** @return the outbound HTTP clients' settings */
    public Client getClient() {
        return client;
    }

    /** @return the Actuator endpoint's settings */
    public Endpoint getEndpoint() {
        return endpoint;
    }

    /** @return the health indicator's settings */
    public Health getHealth() {
        return health;
    }

    /** @return the meters' settings */
    public Metrics getMetrics() {
        return metrics;
    }

    /** @return what a task handed to Spring's task executors carries of the caller's context */
    public TaskContext getTaskContext() {
        return taskContext;
    }

    /** @param taskContext what a task handed to Spring's task executors carries of the caller's context */
    public void setTaskContext(TaskContext taskContext) {
        this.taskContext = java.util.Objects.requireNonNull(taskContext, "taskContext");
    }

    /** What a task handed to one of Spring's task executors carries of the context that submitted it. */
    public enum TaskContext {
        /**
         * The context itself: its deadline, cancellation and values. Work done for a request stops
         * with it (Go's semantics), but a fire-and-forget task started by a request sees the
         * request's end, and its outbound calls are refused once the response is sent: choose it
         * only where every task is awaited by the request that started it.
         */
        FULL,
        /**
         * Its values only ({@code Context.withoutCancel()}), the default: the task outlives the
         * request that started it, as an {@code @Async} task does without the starter.
         */
        VALUES,
        /** Nothing: the task runs in the background context. */
        NONE
    }

    /** @return the Spring Cloud CircuitBreaker settings */
    public Cloud getCloud() {
        return cloud;
    }

    /**
     * The deadline filter in front of Spring MVC (a servlet filter) or WebFlux (a {@code WebFilter}):
     * a caller's {@code grpc-timeout} becomes the request's context.
     */
    public static class Inbound {
        /** Whether to register the filter. */
        private boolean enabled = true;
        /** Whether to take the caller's deadline; false for a service facing untrusted callers (then only {@code default-timeout} applies). */
        private boolean trustIncoming = true;
        /** The longest deadline a caller may ask for; a longer one is cut to it. None by default. */
        private Duration maxTimeout;
        /** The deadline of a request that brings none. None by default. */
        private Duration defaultTimeout;
        /** The status of a request whose deadline passed before it arrived. */
        private int expiredStatus = 504;
        /** The URL patterns the servlet filter covers; the WebFlux filter covers every exchange. */
        private String[] urlPatterns = {"/*"};

        /** Creates the defaults. */
        public Inbound() {
        }

        /** @return whether the filter is registered */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether to register the filter */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** @return whether the caller's deadline is taken */
        public boolean isTrustIncoming() {
            return trustIncoming;
        }

        /** @param trustIncoming whether to take the caller's deadline */
        public void setTrustIncoming(boolean trustIncoming) {
            this.trustIncoming = trustIncoming;
        }

        /** @return the longest deadline a caller may ask for, or null */
        public Duration getMaxTimeout() {
            return maxTimeout;
        }

        /** @param maxTimeout the longest deadline a caller may ask for */
        public void setMaxTimeout(Duration maxTimeout) {
            this.maxTimeout = maxTimeout;
        }

        /** @return the deadline of a request that brings none, or null */
        public Duration getDefaultTimeout() {
            return defaultTimeout;
        }

        /** @param defaultTimeout the deadline of a request that brings none */
        public void setDefaultTimeout(Duration defaultTimeout) {
            this.defaultTimeout = defaultTimeout;
        }

        /** @return the status of a request that arrived too late */
        public int getExpiredStatus() {
            return expiredStatus;
        }

        /** @param expiredStatus the status of a request that arrived too late */
        public void setExpiredStatus(int expiredStatus) {
            this.expiredStatus = expiredStatus;
        }

        /** @return the URL patterns the filter covers */
        public String[] getUrlPatterns() {
            return urlPatterns.clone();
        }

        /** @param urlPatterns the URL patterns the filter covers */
        public void setUrlPatterns(String[] urlPatterns) {
            this.urlPatterns = urlPatterns.clone();
        }

        /** @return the inbound adaptive limit's settings */
        public Limit getLimit() {
            return limit;
        }

        /** The inbound adaptive limit ({@code resilience.spring.inbound.limit.*}). */
        private final Limit limit = new Limit();
    }

    /**
     * An adaptive concurrency limit in front of the Spring MVC handlers (a servlet
     * {@code AdaptiveLimitFilter} after the deadline filter): over the limit a request is answered 503
     * with {@code Retry-After} without running its handler, and a request whose deadline passed on the
     * way in is answered 504 without taking a slot. The limiters are the registry's adaptive limiters
     * ({@code resilience.adaptivelimiter.<name>.*}: algorithm, limits), so their meters come with them.
     */
    public static class Limit {
        /** Whether to register the limit filter (off by default: it answers 503 to what it sheds). */
        private boolean enabled;
        /** The registry's adaptive limiter for every request that no route names. */
        private String limiter = "inbound";
        /** Limiters by name, each with the path prefixes it covers (whole segments; the longest prefix wins). */
        private java.util.Map<String, java.util.List<String>> routes = new java.util.LinkedHashMap<>();
        /** The {@code Retry-After} of a request refused over the limit (whole seconds, rounded up). */
        private Duration retryAfter = Duration.ofSeconds(1);

        /** Creates the defaults. */
        public Limit() {
        }

        /** @return whether the limit filter is registered */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether to register the limit filter */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** @return the name of the limiter for requests no route names */
        public String getLimiter() {
            return limiter;
        }

        /** @param limiter the name of the limiter for requests no route names */
        public void setLimiter(String limiter) {
            this.limiter = limiter;
        }

        /** @return limiter names with the path prefixes each covers */
        public java.util.Map<String, java.util.List<String>> getRoutes() {
            return routes;
        }

        /** @param routes limiter names with the path prefixes each covers */
        public void setRoutes(java.util.Map<String, java.util.List<String>> routes) {
            this.routes = routes;
        }

        /** @return the {@code Retry-After} of a refused request */
        public Duration getRetryAfter() {
            return retryAfter;
        }

        /** @param retryAfter the {@code Retry-After} of a refused request */
        public void setRetryAfter(Duration retryAfter) {
            this.retryAfter = retryAfter;
        }
    }

    /** Outbound HTTP: the {@code RestClient}, {@code RestTemplate} and {@code WebClient} customizers. */
    public static class Client {
        /** Whether every {@code RestClient}, {@code RestTemplate} and {@code WebClient} built from Spring's builders sends the current deadline as {@code grpc-timeout}. */
        private boolean propagateDeadline = true;

        /** Creates the defaults. */
        public Client() {
        }

        /** @return whether the deadline goes downstream */
        public boolean isPropagateDeadline() {
            return propagateDeadline;
        }

        /** @param propagateDeadline whether the deadline goes downstream */
        public void setPropagateDeadline(boolean propagateDeadline) {
            this.propagateDeadline = propagateDeadline;
        }
    }

    /** The {@code resilience} Actuator endpoint. */
    public static class Endpoint {
        /** Whether the endpoint offers the write operation that forces a breaker's state. Off by default: enable it only behind Spring Security, like any write endpoint. */
        private boolean writeEnabled;

        /** Creates the defaults. */
        public Endpoint() {
        }

        /** @return whether the write operation is offered */
        public boolean isWriteEnabled() {
            return writeEnabled;
        }

        /** @param writeEnabled whether the write operation is offered */
        public void setWriteEnabled(boolean writeEnabled) {
            this.writeEnabled = writeEnabled;
        }
    }

    /** The {@code resilience} health indicator (the application's breakers). */
    public static class Health {
        /** Whether to register the indicator. */
        private boolean enabled = true;
        /** Whether an open (or forced open) breaker makes the indicator DOWN. Off by default: a dependency's outage is not this service's, and a DOWN readiness probe would take the service out of rotation. */
        private boolean openIsDown;

        /** Creates the defaults. */
        public Health() {
        }

        /** @return whether the indicator is registered */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether to register the indicator */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        /** @return whether an open breaker means DOWN */
        public boolean isOpenIsDown() {
            return openIsDown;
        }

        /** @param openIsDown whether an open breaker means DOWN */
        public void setOpenIsDown(boolean openIsDown) {
            this.openIsDown = openIsDown;
        }
    }

    /** Micrometer meters of the named instances. */
    public static class Metrics {
        /** Whether to bind every named instance to the application's {@code MeterRegistry}. */
        private boolean enabled = true;

        /** Creates the defaults. */
        public Metrics() {
        }

        /** @return whether instances are bound */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether to bind instances */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }

    /** Spring Cloud CircuitBreaker: factories over the named instances for OpenFeign, Gateway and HTTP interface clients. */
    public static class Cloud {
        /** Whether to define the Spring Cloud CircuitBreaker factories (when spring-cloud-commons is present and the application defines none). */
        private boolean enabled = true;

        /** Creates the defaults. */
        public Cloud() {
        }

        /** @return whether the factories are defined */
        public boolean isEnabled() {
            return enabled;
        }

        /** @param enabled whether to define the factories */
        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }
    }
}
