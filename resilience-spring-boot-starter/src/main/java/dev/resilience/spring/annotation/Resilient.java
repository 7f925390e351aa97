package dev.resilience.spring.annotation;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Guards a Spring bean's method (or every public method of a class) with the pipeline configured
 * as {@code resilience.pipeline.<name>}: its policies, in its order (without {@code policies}, the
 * kinds configured under that name, in the default order). Names are matched as Spring matches the
 * keys they come from: case, dashes and camel case aside ({@code paymentsApi} in YAML is the
 * annotation's {@code paymentsApi} or {@code paymentsapi}).
 *
 * <pre>{@code
 * @Service
 * class Payments {
 *     @Resilient(name = "payments", fallbackMethod = "queued")
 *     Receipt pay(Order order) { return client.pay(order); }
 *
 *     Receipt queued(Order order, CallNotPermittedException open) { return Receipt.queued(order); }
 *     Receipt queued(Order order, Exception other) { return Receipt.failed(order); }
 * }
 * }</pre>
 *
 * <p><b>Return types.</b> A plain value (or {@code void}): the call runs through the pipeline on
 * the caller's thread. {@code CompletionStage} or {@code CompletableFuture}: the pipeline's
 * asynchronous path; the method is called once per attempt and the result completes when the last
 * attempt does. {@code Mono} (Reactor on the class path): the same, per subscription. {@code Flux}:
 * one call per subscription whose elements flow as they come; the retry calls the method again only
 * while no element has reached the subscriber, so none is delivered twice; a timeout bounds an
 * attempt's whole stream (a long-lived stream holds its permits until it ends); the fallback's
 * {@code Flux} follows any elements already delivered. A pipeline with a hedge
 * is refused for a {@code Flux} method at startup.
 *
 * <p><b>Fallback.</b> {@code fallbackMethod} names a method of the same class (any visibility,
 * declared or inherited) taking the guarded method's parameters plus a last parameter of type
 * {@code Throwable} or a subtype, and returning the same type. When the pipeline throws (every
 * {@code Exception}, refusals included; never an {@code Error}), the candidate whose last parameter
 * is the closest supertype of the failure is called; with no such candidate the failure is thrown
 * as it was. What the fallback throws is thrown, with the original failure attached as suppressed.
 * The fallback is outermost: a retry retries first, and only the final failure reaches it.
 *
 * <p><b>Checked at startup.</b> When the bean is created: that the pipeline (and every other named
 * instance) can be built from the configuration, that a fallback method with a matching signature
 * exists, that stacked annotations name one fallback, that {@code @Resilient} is not stacked with
 * the per-policy annotations, and that the return type is supported. Any problem stops startup,
 * listing every problem of the bean.
 *
 * <p><b>Proxies.</b> The annotations work through a Spring proxy, like {@code @Transactional}: a
 * call from inside the same bean ({@code this.pay(...)}) bypasses it. Inject the bean into itself,
 * move the method to another bean, or use the pipeline programmatically
 * ({@code registry.pipeline("payments").call(...)}).
 */
@Documented
@Inherited
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface Resilient {

    /** The configured pipeline's name: {@code resilience.pipeline.<name>.*}. */
    String name();

    /**
     * The name of a method of the same bean called instead of throwing (see the class comment).
     * Empty: none.
     */
    String fallbackMethod() default "";
}
