/**
 * The toolkit in Spring Boot 4: a {@code ResilienceRegistry} of the {@code resilience.*} properties,
 * the annotations of {@code dev.resilience.spring.annotation}, guards and deadline propagation for
 * Spring's HTTP clients (RestClient, RestTemplate, WebClient), the inbound deadline filters
 * (Spring MVC, WebFlux), meters, an Actuator endpoint, a health indicator and Spring Cloud
 * CircuitBreaker's factories. Spring's modules are automatic modules; every integration but the core
 * one is optional.
 */
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module dev.resilience.spring {
    requires transitive dev.resilience.core;
    requires transitive dev.resilience.http;
    requires dev.resilience.observability;
    requires transitive spring.boot;
    requires transitive spring.boot.autoconfigure;
    requires transitive spring.context;
    requires spring.aop;
    requires transitive spring.beans;
    requires transitive spring.core;
    requires static transitive spring.web;
    requires static spring.boot.restclient;
    requires static com.fasterxml.jackson.annotation;
    requires static transitive spring.boot.actuator;
    requires static transitive spring.webflux;
    requires static spring.boot.webclient;
    requires static spring.boot.actuator.autoconfigure;
    requires static transitive spring.boot.health;
    requires static micrometer.core;
    requires static reactor.core;
    requires static transitive org.jspecify;
    requires static org.reactivestreams;
    requires static jakarta.servlet;

    exports dev.resilience.spring;
    exports dev.resilience.spring.annotation;
    exports dev.resilience.spring.autoconfigure;
    // Spring Cloud Commons has no module name (a filename-based automodule Maven warns about):
    // dev.resilience.spring.cloud reads it from the class path (--add-reads ...=ALL-UNNAMED in the build).
    exports dev.resilience.spring.cloud;
    // Spring creates the post-processor, the analyzer and the binders reflectively.
    opens dev.resilience.spring.internal to spring.core, spring.beans, spring.context, spring.boot;
    opens dev.resilience.spring.autoconfigure to spring.core, spring.beans, spring.context;
}
