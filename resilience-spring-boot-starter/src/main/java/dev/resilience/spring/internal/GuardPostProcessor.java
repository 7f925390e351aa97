package dev.resilience.spring.internal;

import java.lang.reflect.Method;
import java.util.Objects;
import org.springframework.aop.support.AopUtils;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.util.ClassUtils;

/**
 * Proxies every bean whose class carries this starter's annotations, as Spring's own
 * {@code @Async} and {@code @Validated} post-processors do: no AspectJ, no auto-proxy creator. A
 * bean's annotations are checked when it is created, so a wrong one stops startup.
 */
public final class GuardPostProcessor extends AbstractBeanFactoryAwareAdvisingPostProcessor {

    private static final long serialVersionUID = 1L;

    private final transient Guards guards;

    /** Applies the guards of {@code guards}. */
    public GuardPostProcessor(Guards guards) {
        this.guards = Objects.requireNonNull(guards, "guards");
        StaticMethodMatcherPointcut pointcut = new StaticMethodMatcherPointcut() {
            @Override
            public boolean matches(Method method, Class<?> targetClass) {
                return guards.guard(method, targetClass) != null;
            }
        };
        pointcut.setClassFilter(guards::annotated);
        this.advisor = new DefaultPointcutAdvisor(pointcut, new GuardInterceptor(guards));
        // Outside any other advice of the bean (a retry runs a @Transactional method anew), and
        // a class proxy, as Spring Boot configures proxies, so the bean is injectable by its class.
        setBeforeExistingAdvisors(true);
        setProxyTargetClass(true);
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        Class<?> type = ClassUtils.getUserClass(AopUtils.getTargetClass(bean));
        if (guards.annotated(type)) {
            guards.validate(type, beanName);
        }
        return super.postProcessAfterInitialization(bean, beanName);
    }
}
