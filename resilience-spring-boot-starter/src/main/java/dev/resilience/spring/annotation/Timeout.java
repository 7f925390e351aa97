package dev.resilience.spring.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Guards a Spring bean's method (or every public method of a class) with the timeout of the
 * configuration named {@link #name()}: {@code resilience.timeout.<name>.*}, or the defaults if that name
 * is not configured.
 * The call runs under a deadline of {@code timeout} (or the caller's, if sooner); a blocking method
 * is told through its context (cancellation is cooperative, as with the toolkit's {@code Timeout});
 * a returned {@code CompletableFuture} is failed with the timeout's exception when time is up.
 *
 * <p>Stacked with other annotations of this package, the policies run in one pipeline in the
 * default order, outermost first: fallback, {@link Retry}, {@link CircuitBreaker},
 * {@link RateLimiter}, {@link Timeout}, {@link Bulkhead}. See {@link Resilient} for return types,
 * fallbacks, and what is checked at startup.
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Timeout {

    /** The configured instance's name. */
    String name();

    /**
     * The name of a method of the same bean called instead of throwing; see
     * {@link Resilient#fallbackMethod()}. Empty: none.
     */
    String fallbackMethod() default "";
}
