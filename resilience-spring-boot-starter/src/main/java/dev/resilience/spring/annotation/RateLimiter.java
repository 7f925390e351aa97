package dev.resilience.spring.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Guards a Spring bean's method (or every public method of a class) with the rate limiter of the
 * configuration named {@link #name()}: {@code resilience.ratelimiter.<name>.*}, or the defaults if that name
 * is not configured.
 * A call that would wait beyond {@code max-wait} or the current deadline throws {@code dev.resilience.core.RequestNotPermittedException}.
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
public @interface RateLimiter {

    /** The configured instance's name. */
    String name();

    /**
     * The name of a method of the same bean called instead of throwing; see
     * {@link Resilient#fallbackMethod()}. Empty: none.
     */
    String fallbackMethod() default "";
}
