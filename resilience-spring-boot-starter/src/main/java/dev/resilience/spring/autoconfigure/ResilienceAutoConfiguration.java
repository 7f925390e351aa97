package dev.resilience.spring.autoconfigure;

import dev.resilience.core.AdaptiveLimiter;
import dev.resilience.core.AdaptiveThrottle;
import dev.resilience.core.Bulkhead;
import dev.resilience.core.CircuitBreaker;
import dev.resilience.core.Pipeline;
import dev.resilience.core.RateLimiter;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.core.Retry;
import dev.resilience.core.Timeout;
import dev.resilience.spring.ResilienceReloader;
import dev.resilience.spring.ResilienceSpringProperties;
import dev.resilience.spring.internal.ContextTaskDecorator;
import dev.resilience.spring.internal.CreatedInstances;
import dev.resilience.spring.internal.EnvironmentConfiguration;
import dev.resilience.spring.internal.FilterMeters;
import dev.resilience.spring.internal.GuardPostProcessor;
import dev.resilience.spring.internal.Guards;
import dev.resilience.spring.internal.MeterBinder;
import dev.resilience.spring.internal.OpenTelemetryLookup;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Role;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.task.TaskDecorator;

/**
 * The toolkit in a Spring Boot application: a {@link ResilienceRegistry} of the
 * {@code resilience.*} properties (validated at startup, every problem listed), the annotations of
 * {@code dev.resilience.spring.annotation}, and the meters of every instance when Micrometer is
 * present.
 */
@AutoConfiguration
@EnableConfigurationProperties(ResilienceSpringProperties.class)
public class ResilienceAutoConfiguration {

    /** The kinds of instance a registry builds, in the order they are built at startup. */
    private static final List<Class<?>> KINDS = List.of(RateLimiter.class, CircuitBreaker.class,
            AdaptiveThrottle.class, Bulkhead.class, AdaptiveLimiter.class, Retry.class, Timeout.class, Pipeline.class);

    /** Created by Spring Boot. */
    public ResilienceAutoConfiguration() {
    }

    /** @return the list of instances the registry builds, for observers such as the meter binder */
    @Bean
    @ConditionalOnMissingBean
    CreatedInstances resilienceCreatedInstances() {
        return new CreatedInstances();
    }

    /**
     * The registry of the environment's {@code resilience.*} keys; every configured instance is
     * built at once, so that meters, the endpoint and the health indicator show it from the start.
     *
     * @param environment the application's environment
     * @param created where the registry reports what it builds
     * @return the registry
     * @throws dev.resilience.core.ConfigurationException listing every problem of the configuration
     */
    @Bean
    @ConditionalOnMissingBean
    ResilienceRegistry resilienceRegistry(ConfigurableEnvironment environment, CreatedInstances created) {
        ResilienceRegistry registry = ResilienceRegistry.builder()
                .properties(EnvironmentConfiguration.of(environment)).onCreated(created).build();
        for (Class<?> kind : KINDS) {
            for (String name : registry.configuredNames(kind)) {
                build(registry, kind, name);
            }
        }
        return registry;
    }

    private static void build(ResilienceRegistry registry, Class<?> kind, String name) {
        if (kind == RateLimiter.class) {
            registry.rateLimiter(name);
        } else if (kind == CircuitBreaker.class) {
            registry.circuitBreaker(name);
        } else if (kind == AdaptiveThrottle.class) {
            registry.adaptiveThrottle(name);
        } else if (kind == Bulkhead.class) {
            registry.bulkhead(name);
        } else if (kind == AdaptiveLimiter.class) {
            registry.adaptiveLimiter(name);
        } else if (kind == Retry.class) {
            registry.retry(name);
        } else if (kind == Timeout.class) {
            registry.timeout(name);
        } else {
            registry.pipeline(name);
        }
    }

    /**
     * Applies the annotations; the registry is looked up when the first annotated bean is created.
     *
     * @param registry the registry, looked up lazily
     * @return the post-processor
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static GuardPostProcessor resilienceGuardPostProcessor(ObjectProvider<ResilienceRegistry> registry) {
        return new GuardPostProcessor(new Guards(registry::getObject));
    }

    /**
     * Reloads the registry when Spring Cloud reports a changed environment, or an operator sets a
     * value through the endpoint.
     *
     * @param registry the registry
     * @param environment the application's environment
     * @return the reloader
     */
    @Bean
    @ConditionalOnMissingBean
    public ResilienceReloader resilienceReloader(ResilienceRegistry registry, ConfigurableEnvironment environment) {
        return new ResilienceReloader(registry, environment);
    }

    /**
     * Carries the caller's context into Spring's task executors and {@code @Async} methods (see
     * {@code resilience.spring.task-context}); Spring Boot composes it with the application's own
     * decorators.
     *
     * @param properties the starter's settings
     * @return the decorator
     */
    @Bean
    @ConditionalOnMissingBean(name = "resilienceContextTaskDecorator")
    public TaskDecorator resilienceContextTaskDecorator(ResilienceSpringProperties properties) {
        return new ContextTaskDecorator(properties.getTaskContext());
    }

    /**
     * Binds every instance to the application's {@code MeterRegistry}: each one the starter's
     * registry builds, and, for a {@code ResilienceRegistry} bean of the application's own (which
     * reports nothing it builds), every instance it configures or has built by the end of startup;
     * and the inbound servlet filters' lost async cycles ({@link FilterMeters}).
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    @ConditionalOnBooleanProperty(name = "resilience.spring.metrics.enabled", matchIfMissing = true)
    static class Meters {

        @Bean
        SmartInitializingSingleton resilienceMeterBinding(ObjectProvider<MeterRegistry> meters,
                ObjectProvider<CreatedInstances> created, ObjectProvider<ResilienceRegistry> registries,
                ApplicationContext context) {
            return () -> {
                MeterRegistry registry = meters.getIfAvailable();
                if (registry == null) {
                    return;
                }
                FilterMeters.bind(context, registry);
                MeterBinder binder = new MeterBinder(registry, OpenTelemetryLookup.find(context));
                CreatedInstances instances = created.getIfAvailable();
                if (instances != null) {
                    instances.observe(binder);
                }
                ResilienceRegistry resilience = registries.getIfUnique(); // several: each is the application's to bind
                if (resilience != null) { // the starter's: bound already (binding is idempotent); the application's: bound here
                    for (Class<?> kind : KINDS) {
                        for (String name : resilience.configuredNames(kind)) {
                            build(resilience, kind, name);
                        }
                        resilience.instances(kind).values().forEach(binder);
                    }
                }
            };
        }
    }
}
