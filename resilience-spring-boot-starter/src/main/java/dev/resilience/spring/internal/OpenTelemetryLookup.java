package dev.resilience.spring.internal;

import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.util.ClassUtils;

/** The application's {@code OpenTelemetry} bean, if it has the API and exactly one such bean. */
public final class OpenTelemetryLookup {

    private static final String TYPE = "io.opentelemetry.api.OpenTelemetry";

    private OpenTelemetryLookup() {
    }

    /** The bean, or null. */
    public static Object find(ListableBeanFactory beans) {
        ClassLoader loader = OpenTelemetryLookup.class.getClassLoader();
        if (!ClassUtils.isPresent(TYPE, loader)) {
            return null;
        }
        Class<?> type = ClassUtils.resolveClassName(TYPE, loader);
        String[] names = beans.getBeanNamesForType(type, false, false);
        return names.length == 1 ? beans.getBean(names[0]) : null;
    }
}
