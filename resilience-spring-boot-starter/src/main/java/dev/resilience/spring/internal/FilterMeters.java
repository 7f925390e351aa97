package dev.resilience.spring.internal;

import dev.resilience.http.servlet.AdaptiveLimitFilter;
import dev.resilience.http.servlet.DeadlineFilter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.function.ToDoubleFunction;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.util.ClassUtils;

/**
 * Counts, as the Micrometer counter {@value #NAME} (tag {@code filter}: {@code deadline} or
 * {@code limit}), the asynchronous requests whose end the container never reported to the
 * starter's inbound servlet filters ({@code lostAsyncCycles()}): zero on a container that keeps the
 * Servlet contract. Only the filters the starter registers (beans {@code resilienceDeadlineFilter}
 * and {@code resilienceAdaptiveLimitFilter}); a filter the application registers itself is its own
 * to bind. Does nothing without the Servlet API.
 */
public final class FilterMeters {

    /** The counter's name. */
    public static final String NAME = "resilience.http.server.async.lost";
    private static final String[][] BEANS = {{"resilienceDeadlineFilter", "deadline"}, {"resilienceAdaptiveLimitFilter", "limit"}};

    private FilterMeters() {
    }

    /**
     * Binds the starter's servlet filters, if there are any, to {@code registry}.
     *
     * @param beans where the filters' registration beans are
     * @param registry the application's meter registry
     */
    public static void bind(ListableBeanFactory beans, MeterRegistry registry) {
        if (ClassUtils.isPresent("jakarta.servlet.Filter", FilterMeters.class.getClassLoader())) {
            Servlet.bind(beans, registry); // a class of its own: loaded only with the Servlet API
        }
    }

    private static final class Servlet {
        static void bind(ListableBeanFactory beans, MeterRegistry registry) {
            for (String[] bean : BEANS) {
                if (!beans.containsBean(bean[0])) {
                    continue;
                }
                Object b = beans.getBean(bean[0]);
                Object filter = b instanceof FilterRegistrationBean<?> r ? r.getFilter() : b;
                if (filter instanceof AdaptiveLimitFilter f) {
                    counter(registry, bean[1], f, AdaptiveLimitFilter::lostAsyncCycles);
                } else if (filter instanceof DeadlineFilter f) {
                    counter(registry, bean[1], f, DeadlineFilter::lostAsyncCycles);
                }
            }
        }

        private static <T> void counter(MeterRegistry registry, String kind, T filter,
                ToDoubleFunction<T> count) {
            FunctionCounter.builder(NAME, filter, count)
                    .description("asynchronous requests whose end the container never reported; the filter ended them")
                    .tag("filter", kind)
                    .register(registry);
        }
    }
}
