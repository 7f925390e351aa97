package dev.resilience.examples.boot;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.client.RestClient;

/**
 * The checkout service: {@code GET /checkout} pays through {@link PaymentService}, whose guards are
 * the {@code resilience.*} instances of {@code application.yml}. Nothing here configures the
 * toolkit: the starter builds the instances, applies the annotations, puts the caller's
 * {@code grpc-timeout} on each request ({@code resilience.spring.inbound}), sends what is left of
 * it downstream on every {@code RestClient} built from Spring's builder, and shows it all on
 * {@code /actuator/resilience} and {@code /actuator/prometheus}.
 */
@SpringBootApplication
public class CheckoutApplication {

    /** Created by Spring. */
    public CheckoutApplication() {
    }

    /**
     * The payments client. Built from Spring's builder, so the starter's interceptor sends the
     * current deadline as {@code grpc-timeout} on every request.
     *
     * @param builder Spring Boot's {@code RestClient.Builder}
     * @param url where payments listens ({@code payments.url})
     * @return the client
     */
    @Bean
    RestClient paymentsClient(RestClient.Builder builder, @Value("${payments.url}") String url) {
        return builder.baseUrl(url).build();
    }
}
