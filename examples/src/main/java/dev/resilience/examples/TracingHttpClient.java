package dev.resilience.examples;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;

/**
 * An {@code HttpClient} that opens an OpenTelemetry client span around every request it sends. Given
 * to {@code ResilientHttpClient}, it makes one span per attempt, children of the span current where
 * the call was made, so a trace shows each retry and what became of it.
 */
final class TracingHttpClient extends HttpClient {

    private static final AttributeKey<String> METHOD = AttributeKey.stringKey("http.request.method");
    private static final AttributeKey<String> URL = AttributeKey.stringKey("url.full");
    private static final AttributeKey<Long> STATUS = AttributeKey.longKey("http.response.status_code");
    private static final AttributeKey<String> TIMEOUT = AttributeKey.stringKey("grpc-timeout");

    private final HttpClient delegate;
    private final Tracer tracer;

    TracingHttpClient(HttpClient delegate, Tracer tracer) {
        this.delegate = delegate;
        this.tracer = tracer;
    }

    private Span start(HttpRequest request) {
        return tracer.spanBuilder(request.method() + " " + request.uri().getPath()).setSpanKind(SpanKind.CLIENT)
                .setAttribute(METHOD, request.method()).setAttribute(URL, request.uri().toString())
                .setAttribute(TIMEOUT, request.headers().firstValue("grpc-timeout").orElse("none"))
                .startSpan();
    }

    private static void end(Span span, HttpResponse<?> response, Throwable failure) {
        if (response != null) {
            span.setAttribute(STATUS, (long) response.statusCode());
            if (response.statusCode() >= 500) {
                span.setStatus(StatusCode.ERROR);
            }
        }
        if (failure != null) {
            span.recordException(failure);
            span.setStatus(StatusCode.ERROR, failure.getClass().getSimpleName());
        }
        span.end();
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
            throws IOException, InterruptedException {
        Span span = start(request);
        try (Scope s = span.makeCurrent()) {
            HttpResponse<T> response = delegate.send(request, handler);
            end(span, response, null);
            return response;
        } catch (IOException | InterruptedException | RuntimeException | Error e) {
            end(span, null, e);
            throw e;
        }
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
        Span span = start(request);
        try (Scope s = span.makeCurrent()) {
            return delegate.sendAsync(request, handler).whenComplete((r, e) -> end(span, r, e));
        } catch (RuntimeException | Error e) {
            end(span, null, e);
            throw e;
        }
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
            HttpResponse.PushPromiseHandler<T> push) {
        Span span = start(request);
        try (Scope s = span.makeCurrent()) {
            return delegate.sendAsync(request, handler, push).whenComplete((r, e) -> end(span, r, e));
        } catch (RuntimeException | Error e) {
            end(span, null, e);
            throw e;
        }
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
        return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
        return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
        return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
        return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
        return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
        return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
        return delegate.authenticator();
    }

    @Override
    public Version version() {
        return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
        return delegate.executor();
    }
}
