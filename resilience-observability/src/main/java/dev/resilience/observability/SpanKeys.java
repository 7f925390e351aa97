package dev.resilience.observability;

import io.opentelemetry.api.common.AttributeKey;

/**
 * OpenTelemetry attribute keys, in their own class so that an application bound to Micrometer only
 * never loads OpenTelemetry's classes (they cost startup time).
 */
final class SpanKeys {

    static final AttributeKey<String> NAME = AttributeKey.stringKey("name");
    static final AttributeKey<String> R_NAME = AttributeKey.stringKey("resilience.name");
    static final AttributeKey<String> R_KIND = AttributeKey.stringKey("resilience.kind");
    static final AttributeKey<String> R_REASON = AttributeKey.stringKey("resilience.reason");
    static final AttributeKey<String> R_FROM = AttributeKey.stringKey("resilience.from");
    static final AttributeKey<String> R_TO = AttributeKey.stringKey("resilience.to");
    static final AttributeKey<Long> R_ATTEMPT = AttributeKey.longKey("resilience.attempt");
    static final AttributeKey<Double> R_DELAY = AttributeKey.doubleKey("resilience.delay_s");

    private SpanKeys() {
    }
}
