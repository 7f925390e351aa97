package dev.resilience.spring.internal;

import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.aop.ClassFilter;
import org.springframework.aop.framework.Advised;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.aop.framework.autoproxy.AbstractBeanFactoryAwareAdvisingPostProcessor;
import org.springframework.aop.support.AopUtils;
import org.springframework.aop.support.DefaultPointcutAdvisor;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.scheduling.annotation.AsyncAnnotationBeanPostProcessor;
import org.springframework.scheduling.config.TaskManagementConfigUtils;
import org.springframework.util.ClassUtils;

/**
 * Proxies every bean whose class carries this starter's annotations, as Spring's own
 * {@code @Async} and {@code @Validated} post-processors do: no AspectJ, no auto-proxy creator. A
 * bean's annotations are checked when it is created, so a wrong one stops startup. A bean that is
 * already a proxy of annotated interfaces (an HTTP interface client, a repository) gets the guards
 * added to its own advice chain.
 */
public final class GuardPostProcessor extends AbstractBeanFactoryAwareAdvisingPostProcessor {

    private static final long serialVersionUID = 1L;

    private final transient Guards guards;

    /** Applies the guards of {@code guards}. */
    public GuardPostProcessor(Guards guards) {
        this.guards = Objects.requireNonNull(guards, "guards");
        GuardInterceptor interceptor = new GuardInterceptor(guards);
        StaticMethodMatcherPointcut byClass = new StaticMethodMatcherPointcut() {
            @Override
            public boolean matches(Method method, Class<?> targetClass) {
                return guards.guard(method, targetClass) != null || byInterface(method);
            }
        };
        byClass.setClassFilter(guards::annotated);
        this.advisor = new DefaultPointcutAdvisor(byClass, interceptor);
        // Outside any other advice of the bean (a retry runs a @Transactional method anew), and
        // a class proxy, as Spring Boot configures proxies, so the bean is injectable by its class.
        setBeforeExistingAdvisors(true);
        setProxyTargetClass(true);
    }

    /** The advisor of one proxy whose annotations are on {@code interfaces}. */
    private DefaultPointcutAdvisor interfaceAdvisor(List<Class<?>> interfaces) {
        GuardInterceptor interceptor = new GuardInterceptor(guards, interfaces);
        List<Class<?>> annotated = interceptor.interfaces();
        StaticMethodMatcherPointcut pointcut = new StaticMethodMatcherPointcut() {
            @Override
            public boolean matches(Method method, Class<?> targetClass) {
                return guards.guardFor(method, null, annotated) != null;
            }
        };
        pointcut.setClassFilter(ClassFilter.TRUE);
        return new DefaultPointcutAdvisor(pointcut, interceptor);
    }

    /**
     * Tells the guards whether {@code @Async} is in effect: only where Spring's post-processor for
     * it is registered, or {@code @EnableAsync}'s aspect (its AspectJ mode), is a guarded
     * {@code @Async} method's return type checked.
     */
    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        super.setBeanFactory(beanFactory);
        if (beanFactory instanceof ListableBeanFactory beans) {
            // @EnableAsync's beans (its proxy mode's post-processor, its AspectJ mode's aspect, which
            // weaves the async advice into the class, inside ours too), or a post-processor
            // registered by hand; looked up by name and by type without initialising any bean
            // (the post-processor of this context only: a parent's does not proxy this one's beans;
            // the aspect's weaving is the class's own, wherever it was enabled)
            guards.asyncEnabled(() -> beans.containsBeanDefinition(TaskManagementConfigUtils.ASYNC_ANNOTATION_PROCESSOR_BEAN_NAME)
                    || beans.containsBean(TaskManagementConfigUtils.ASYNC_EXECUTION_ASPECT_BEAN_NAME)
                    || beans.getBeanNamesForType(AsyncAnnotationBeanPostProcessor.class, true, false).length > 0);
        }
    }

    private boolean byInterface(Method method) {
        return method.getDeclaringClass().isInterface() && guards.guard(method, method.getDeclaringClass()) != null;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        Class<?> type = ClassUtils.getUserClass(AopUtils.getTargetClass(bean));
        boolean annotated = !Proxy.isProxyClass(type) && guards.annotated(type);
        if (annotated) {
            guards.validate(type, beanName);
            return super.postProcessAfterInitialization(bean, beanName);
        }
        // Annotations on interfaces that a proxy implements (an HTTP interface client, a repository,
        // a Feign client): the class has none, the interfaces do.
        List<Class<?>> interfaces = new ArrayList<>();
        if (bean instanceof Advised advised) {
            for (Class<?> i : advised.getProxiedInterfaces()) {
                if (guards.annotated(i)) {
                    interfaces.add(i);
                }
            }
        } else {
            // The interfaces Spring's ClassUtils.getAllInterfacesForClass gives, in its order, but the
            // cached annotation check first: most beans' interfaces are the JDK's and Spring's, and
            // asking whether each is visible from the proxy's class loader costs a class lookup.
            for (Class<?> c = bean.getClass(); c != null; c = c.getSuperclass()) {
                for (Class<?> i : c.getInterfaces()) {
                    if (guards.annotated(i) && !interfaces.contains(i) && ClassUtils.isVisible(i, getProxyClassLoader())) {
                        interfaces.add(i);
                    }
                }
            }
        }
        if (interfaces.isEmpty()) {
            return bean; // nothing of ours: the advisor's class filter would refuse it too
        }
        for (Class<?> i : interfaces) {
            guards.validate(i, beanName);
        }
        // This proxy's own advisor: a method the annotated interfaces inherit (CrudRepository's
        // findById under a type-level annotation) is guarded as the interface's own methods are.
        DefaultPointcutAdvisor advisor = interfaceAdvisor(interfaces);
        if (bean instanceof Advised advised && !advised.isFrozen()) {
            advised.addAdvisor(0, advisor);
            return bean;
        }
        ProxyFactory factory = new ProxyFactory(bean);
        factory.setInterfaces(ClassUtils.getAllInterfacesForClass(bean.getClass(), getProxyClassLoader()));
        factory.addAdvisor(advisor);
        return factory.getProxy(getProxyClassLoader());
    }
}
