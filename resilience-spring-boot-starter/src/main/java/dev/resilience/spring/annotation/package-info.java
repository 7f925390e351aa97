/**
 * Annotations that guard Spring beans' methods with the toolkit's named instances:
 * {@link dev.resilience.spring.annotation.Resilient} for a configured pipeline, one annotation per
 * policy for the rest. They are applied by the starter's own proxying post-processor, so they work
 * without AspectJ and without {@code @EnableAspectJAutoProxy}.
 */
package dev.resilience.spring.annotation;
