package dev.resilience.spring;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** The tests' calls to the application under test, on loopback. */
public final class LoopbackCalls {

    private LoopbackCalls() {
    }

    /** GET {@code path} on {@code port} with header name/value pairs, at most 20 s. */
    public static HttpResponse<String> get(HttpClient http, int port, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
