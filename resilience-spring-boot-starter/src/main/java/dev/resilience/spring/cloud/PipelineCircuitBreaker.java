package dev.resilience.spring.cloud;

import dev.resilience.core.Pipeline;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;
import org.springframework.cloud.client.circuitbreaker.CircuitBreaker;

/** A Spring Cloud {@link CircuitBreaker} that runs calls through a pipeline; immutable, shared. */
final class PipelineCircuitBreaker implements CircuitBreaker {

    private final Pipeline<Object> pipeline;

    PipelineCircuitBreaker(Pipeline<Object> pipeline) {
        this.pipeline = pipeline;
    }

    /**
     * Calls {@code toRun} through the pipeline under the current context; what the pipeline throws
     * goes to {@code fallback}, except a {@code VirtualMachineError} or {@code LinkageError}, thrown
     * as they are. An interrupt (a wait inside the pipeline was interrupted) is given to the
     * fallback with the thread's interrupt flag set again.
     *
     * @throws NullPointerException if {@code toRun} or {@code fallback} is null
     */
    @Override
    public <T> T run(Supplier<T> toRun, Function<Throwable, T> fallback) {
        Objects.requireNonNull(toRun, "toRun");
        Objects.requireNonNull(fallback, "fallback");
        Object result;
        try {
            result = pipeline.call(toRun::get);
        } catch (VirtualMachineError | LinkageError fatal) {
            throw fatal;
        } catch (Throwable failure) {
            if (failure instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return Fallbacks.apply(fallback, failure);
        }
        @SuppressWarnings("unchecked") // the pipeline returns what toRun returned
        T value = (T) result;
        return value;
    }

    @Override
    public String toString() {
        return "PipelineCircuitBreaker[" + pipeline + "]";
    }
}
