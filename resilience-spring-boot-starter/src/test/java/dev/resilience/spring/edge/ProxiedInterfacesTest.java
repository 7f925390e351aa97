package dev.resilience.spring.edge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.annotation.CircuitBreaker;
import dev.resilience.spring.annotation.Retry;
import java.util.concurrent.atomic.AtomicInteger;
import org.aopalliance.intercept.MethodInterceptor;
import org.junit.jupiter.api.Test;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;

class ProxiedInterfacesTest {

    /** Like a Spring Data repository: a ProxyFactory proxy whose target (the base class) lacks the query method. */
    interface OrderRepo {
        @Retry(name = "three")
        String findByCustomer(String c);
    }

    static class BaseRepo {
    }

    /** Like Spring Data's CrudRepository: methods a repository inherits. */
    interface CrudLike {
        String findById(String id);
    }

    /** Annotated on the type: its inherited methods are guarded too. */
    @Retry(name = "three")
    interface ProductRepo extends CrudLike {
    }

    static final AtomicInteger FINDS = new AtomicInteger();

    static final AtomicInteger QUERIES = new AtomicInteger();

    @SpringBootConfiguration @EnableAutoConfiguration
    static class RepoApp {
        @Bean OrderRepo orderRepo() {
            ProxyFactory pf = new ProxyFactory(new BaseRepo());
            pf.addInterface(OrderRepo.class);
            pf.addAdvice((MethodInterceptor) inv -> {
                if (inv.getMethod().getName().equals("findByCustomer")) {
                    if (QUERIES.incrementAndGet() < 3) {
                        throw new IllegalStateException("db flaky");
                    }
                    return "orders of " + inv.getArguments()[0];
                }
                return inv.proceed();
            });
            return (OrderRepo) pf.getProxy();
        }

        @Bean Logged logged() { return new Logged(); }

        @Bean ProductRepo productRepo() {
            ProxyFactory pf = new ProxyFactory(new BaseRepo());
            pf.addInterface(ProductRepo.class);
            pf.addAdvice((MethodInterceptor) inv -> {
                if (inv.getMethod().getName().equals("findById")) {
                    if (FINDS.incrementAndGet() < 3) {
                        throw new IllegalStateException("db flaky");
                    }
                    return "product " + inv.getArguments()[0];
                }
                return inv.proceed();
            });
            return (ProductRepo) pf.getProxy();
        }
    }

    @CircuitBreaker(name = "remote")
    static class Logged {
        public String call() {
            return "ok";
        }

        @Override
        public String toString() {
            return "Logged";
        }
    }

    static ConfigurableApplicationContext start() {
        return new SpringApplicationBuilder(RepoApp.class).web(WebApplicationType.NONE).properties(
                "resilience.retry.three.max-attempts=3", "resilience.retry.three.backoff=fixed",
                "resilience.retry.three.backoff-delay=1ms").run();
    }

    @Test
    void anAnnotatedRepositoryStyleProxyIsGuarded() {
        QUERIES.set(0);
        try (ConfigurableApplicationContext ctx = start()) {
            assertEquals("orders of c", ctx.getBean(OrderRepo.class).findByCustomer("c"));
            assertEquals(3, QUERIES.get());
        }
    }

    @Test
    void aTypeLevelAnnotationOnARepositoryInterfaceGuardsTheMethodsItInherits() {
        FINDS.set(0);
        try (ConfigurableApplicationContext ctx = start()) {
            assertEquals("product p", ctx.getBean(ProductRepo.class).findById("p"));
            assertEquals(3, FINDS.get(), "retried: the inherited method is guarded by the interface's @Retry");
        }
    }

    @Test
    void toStringIsNotGuardedByAClassLevelBreaker() {
        try (ConfigurableApplicationContext ctx = start()) {
            ctx.getBean(ResilienceRegistry.class).circuitBreaker("remote").forceOpen();
            assertEquals("Logged", ctx.getBean(Logged.class).toString());
        }
    }
}
