/**
 * The toolkit in Spring Boot 4: a {@code ResilienceRegistry} of the {@code resilience.*} properties,
 * the annotations of {@code dev.resilience.spring.annotation}, guards and deadline propagation for
 * Spring's HTTP clients, the inbound deadline filter, meters, an Actuator endpoint, a health
 * indicator and Spring Cloud CircuitBreaker's factories. Spring's modules are automatic modules;
 * every integration but the core one is optional.
 */
@SuppressWarnings("requires-automatic")
module dev.resilience.spring {
    requires transitive dev.resilience.core;
    requires transitive dev.resilience.http;
    requires dev.resilience.observability;
    requires transitive spring.boot;
    requires transitive spring.boot.autoconfigure;
    requires transitive spring.context;
    requires spring.aop;
    requires spring.beans;
    requires spring.core;
    requires static spring.web;
    requires static spring.boot.restclient;
    requires static spring.boot.actuator;
    requires static spring.boot.actuator.autoconfigure;
    requires static spring.boot.health;
    requires static micrometer.core;
    requires static reactor.core;
    requires static org.reactivestreams;
    requires static jakarta.servlet;
    requires static spring.cloud.commons;

    exports dev.resilience.spring;
    exports dev.resilience.spring.annotation;
    exports dev.resilience.spring.autoconfigure;
    exports dev.resilience.spring.cloud;
    // Spring creates the post-processor, the analyzer and the binders reflectively.
    opens dev.resilience.spring.internal to spring.core, spring.beans, spring.context, spring.boot;
    opens dev.resilience.spring.autoconfigure to spring.core, spring.beans, spring.context;
}
