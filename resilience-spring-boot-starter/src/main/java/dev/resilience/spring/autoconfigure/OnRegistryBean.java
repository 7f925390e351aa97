package dev.resilience.spring.autoconfigure;

import dev.resilience.core.ResilienceRegistry;
import org.springframework.beans.factory.BeanFactoryUtils;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.ConfigurationCondition;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * {@code @ConditionalOnBean(ResilienceRegistry.class)} with a fast path: true at once when the core
 * auto-configuration defined its registry (a bean {@code resilienceRegistry} of that type), else when
 * the application has a registry of its own under another name (the type search Spring's condition
 * always makes, over every bean definition of the context and its ancestors). Four of the starter's
 * auto-configurations ask; the fast path spares the usual case those four searches (their cost was
 * not measured on its own: see README, "Startup cost").
 */
final class OnRegistryBean extends SpringBootCondition implements ConfigurationCondition {

    /** The name of the core auto-configuration's registry bean (its factory method's name). */
    static final String NAME = "resilienceRegistry";

    @Override
    public ConfigurationPhase getConfigurationPhase() {
        return ConfigurationPhase.REGISTER_BEAN; // after the core auto-configuration has registered its beans
    }

    @Override
    public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
        ConfigurableListableBeanFactory beans = context.getBeanFactory();
        if (beans == null) {
            return ConditionOutcome.noMatch("no bean factory");
        }
        if ((beans.containsBeanDefinition(NAME) && beans.isTypeMatch(NAME, ResilienceRegistry.class))
                || BeanFactoryUtils.beanNamesForTypeIncludingAncestors(beans, ResilienceRegistry.class, true, false).length > 0) {
            return ConditionOutcome.match("a ResilienceRegistry bean is defined");
        }
        return ConditionOutcome.noMatch("no ResilienceRegistry bean (the core auto-configuration is excluded or backed off)");
    }
}
