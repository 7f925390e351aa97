package dev.resilience.spring.cloud;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.autoconfigure.ResilienceAutoConfiguration;
import dev.resilience.spring.autoconfigure.ResilienceCloudAutoConfiguration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.cloud.client.circuitbreaker.CircuitBreakerFactory;
import org.springframework.cloud.client.circuitbreaker.Customizer;
import org.springframework.cloud.client.circuitbreaker.ReactiveCircuitBreakerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * When the factories are defined: with spring-cloud-commons (the reactive one with Reactor too),
 * unless switched off or the application has its own; {@code Customizer} beans configure them; an
 * application without spring-cloud-commons starts as before.
 */
class ResilienceCloudAutoConfigurationTest {

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ResilienceAutoConfiguration.class, ResilienceCloudAutoConfiguration.class))
            .withPropertyValues("resilience.circuitbreaker.payments.consecutive-failures=3");

    @Test
    void bothFactoriesWhenSpringCloudCommonsAndReactorArePresent() {
        runner.run(context -> {
            assertInstanceOf(ResilienceCircuitBreakerFactory.class, context.getBean(CircuitBreakerFactory.class));
            assertInstanceOf(ReactiveResilienceCircuitBreakerFactory.class, context.getBean(ReactiveCircuitBreakerFactory.class));
            ResilienceRegistry registry = context.getBean(ResilienceRegistry.class);
            assertEquals("ok", context.getBean(CircuitBreakerFactory.class).create("payments").run(() -> "ok"));
            assertEquals(1, registry.circuitBreaker("payments").counts().totalSuccesses(), "the registry's breaker");
        });
    }

    @Test
    void offWithTheProperty() {
        runner.withPropertyValues("resilience.spring.cloud.enabled=false").run(context -> {
            assertNull(context.getStartupFailure());
            assertTrue(context.getBeansOfType(CircuitBreakerFactory.class).isEmpty());
            assertTrue(context.getBeansOfType(ReactiveCircuitBreakerFactory.class).isEmpty());
            assertTrue(context.getBeansOfType(ResilienceRegistry.class).size() == 1, "the rest of the starter stays");
        });
    }

    @Test
    void noneWithoutSpringCloudCommons() {
        runner.withClassLoader(new FilteredClassLoader("org.springframework.cloud")).run(context -> {
            assertNull(context.getStartupFailure());
            assertEquals(1, context.getBeansOfType(ResilienceRegistry.class).size());
            assertTrue(context.getBeanNamesForType(ResilienceCloudAutoConfiguration.class).length == 0);
        });
    }

    @Test
    void onlyTheBlockingOneWithoutReactor() {
        runner.withClassLoader(new FilteredClassLoader("reactor.core")).run(context -> {
            assertNull(context.getStartupFailure());
            assertInstanceOf(ResilienceCircuitBreakerFactory.class, context.getBean(CircuitBreakerFactory.class));
            assertEquals(0, context.getBeanNamesForType(ReactiveResilienceCircuitBreakerFactory.class).length);
        });
    }

    @Test
    void theApplicationsOwnFactoryWins() {
        runner.withUserConfiguration(OwnFactory.class).run(context -> {
            assertSame(context.getBean("ownFactory"), context.getBean(CircuitBreakerFactory.class));
            assertSame(context.getBean("ownReactiveFactory"), context.getBean(ReactiveCircuitBreakerFactory.class));
        });
    }

    @Test
    void customizerBeansConfigureTheFactories() {
        runner.withUserConfiguration(Customizers.class).run(context -> {
            ResilienceRegistry registry = context.getBean(ResilienceRegistry.class);
            context.getBean(CircuitBreakerFactory.class).create("PaymentsClient#pay()").run(() -> "ok");
            context.getBean(ReactiveCircuitBreakerFactory.class).create("payments-route")
                    .run(reactor.core.publisher.Mono.just("ok")).block(java.time.Duration.ofSeconds(10));
            assertEquals(2, registry.circuitBreaker("payments").counts().totalSuccesses());
            assertTrue(!registry.instances(dev.resilience.core.CircuitBreaker.class).containsKey("PaymentsClient#pay()"));
        });
    }

    @Test
    void aDefaultPipelineShapeAppliesToUnconfiguredIds() {
        runner.withPropertyValues("resilience.pipeline.default.policies=retry, circuitbreaker",
                "resilience.retry.default.max-attempts=2", "resilience.retry.default.backoff=fixed",
                "resilience.retry.default.backoff-delay=1ms").run(context -> {
            ResilienceRegistry registry = context.getBean(ResilienceRegistry.class);
            java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger();
            assertEquals("fallback", context.getBean(CircuitBreakerFactory.class).create("Any#call()").run(() -> {
                attempts.incrementAndGet();
                throw new IllegalStateException("down");
            }, t -> "fallback"));
            assertEquals(2, attempts.get(), "the default shape's retry, named like the id");
            assertEquals(2, registry.circuitBreaker("Any#call()").counts().totalFailures(), "and its breaker, inside the retry");
            assertTrue(registry.instances(dev.resilience.core.Retry.class).containsKey("Any#call()"));
        });
    }

    @Test
    void onlyBesideARegistry() {
        ApplicationContextRunner alone = new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(ResilienceCloudAutoConfiguration.class));
        alone.run(context -> {
            assertNull(context.getStartupFailure());
            assertTrue(context.getBeansOfType(CircuitBreakerFactory.class).isEmpty(),
                    "the core auto-configuration excluded and no registry of the application's: nothing");
        });
        alone.withBean("resilienceRegistry", String.class, () -> "not a registry").run(context -> {
            assertNull(context.getStartupFailure(), "a bean of another type under the registry's name is no registry");
            assertTrue(context.getBeansOfType(CircuitBreakerFactory.class).isEmpty());
        });
        alone.withUserConfiguration(OwnRegistry.class).run(context -> {
            assertNull(context.getStartupFailure());
            assertEquals("ok", context.getBean(CircuitBreakerFactory.class).create("payments").run(() -> "ok"));
            assertEquals(1, context.getBean("ownRegistry", ResilienceRegistry.class).circuitBreaker("payments").counts()
                    .totalSuccesses(), "the application's registry, found by type under its own name");
        });
        runner.withUserConfiguration(OwnRegistry.class).run(context -> {
            assertEquals(1, context.getBeansOfType(ResilienceRegistry.class).size(), "the core backed off");
            assertEquals("ok", context.getBean(CircuitBreakerFactory.class).create("payments").run(() -> "ok"));
            assertEquals(1, context.getBean("ownRegistry", ResilienceRegistry.class).circuitBreaker("payments").counts()
                    .totalSuccesses());
        });
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnRegistry {
        @Bean
        ResilienceRegistry ownRegistry() {
            return ResilienceRegistry.of(java.util.Map.of("resilience.circuitbreaker.payments.consecutive-failures", "3"));
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OwnFactory {
        @Bean
        ResilienceCircuitBreakerFactory ownFactory(ResilienceRegistry registry) {
            return new ResilienceCircuitBreakerFactory(registry);
        }

        @Bean
        ReactiveResilienceCircuitBreakerFactory ownReactiveFactory(ResilienceRegistry registry) {
            return new ReactiveResilienceCircuitBreakerFactory(registry);
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class Customizers {
        @Bean
        Customizer<ResilienceCircuitBreakerFactory> feignIds() {
            return factory -> factory.configure(b -> b.pipeline("payments"), "PaymentsClient#pay()");
        }

        @Bean
        Customizer<ReactiveResilienceCircuitBreakerFactory> routes() {
            return factory -> factory.configure(b -> b.pipeline("payments"), "payments-route");
        }
    }
}
