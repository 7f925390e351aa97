package dev.resilience.spring.internal;

import dev.resilience.core.ConfigurationException;
import dev.resilience.core.ConfigurationException.Problem;
import dev.resilience.core.Pipeline;
import dev.resilience.core.Policy;
import dev.resilience.core.ResilienceRegistry;
import dev.resilience.spring.annotation.Bulkhead;
import dev.resilience.spring.annotation.CircuitBreaker;
import dev.resilience.spring.annotation.RateLimiter;
import dev.resilience.spring.annotation.Resilient;
import dev.resilience.spring.annotation.Retry;
import dev.resilience.spring.annotation.Timeout;
import java.lang.annotation.Annotation;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.springframework.aop.support.AopUtils;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.core.annotation.AnnotationUtils;
import org.springframework.core.annotation.MergedAnnotation;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.util.ClassUtils;
import org.springframework.util.ReflectionUtils;

/**
 * Finds the annotated methods of a class and builds their {@link Guard}s from the registry, once per
 * class and method; every problem is collected so startup can list them all.
 */
public final class Guards {

    /** The annotations of this starter, in the default pipeline order after {@link Resilient}. */
    static final List<Class<? extends Annotation>> ANNOTATIONS = List.of(Resilient.class, Retry.class,
            CircuitBreaker.class, RateLimiter.class, Timeout.class, Bulkhead.class);

    private static final boolean REACTOR = ClassUtils.isPresent("reactor.core.publisher.Mono", Guards.class.getClassLoader());

    private final Supplier<ResilienceRegistry> registry;
    /**
     * Guards by class, then by method as called; an empty Optional for a method without annotations.
     * Two levels, so a call's lookup allocates nothing (a key of class and method would be made per
     * call, up to three times for a proxy of an interface).
     */
    private final Map<Class<?>, Map<Method, Optional<Guard>>> guards = new ConcurrentHashMap<>();

    /**
     * Asks whether the application runs {@code @Async} methods asynchronously (its
     * {@code @EnableAsync} registered Spring's post-processor); asked once, when the first guard is
     * made, the answer kept in {@link #asyncEnabled}. Without it, {@code @Async} does nothing and a
     * guarded {@code @Async} method is guarded as any other.
     */
    private volatile BooleanSupplier asyncProbe = () -> true;
    private volatile Boolean asyncEnabled;

    /** Guards built from {@code registry}, which is asked for on first use. */
    public Guards(Supplier<ResilienceRegistry> registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Tells the guards how to find out whether {@code @Async} is in effect (by default it is taken to be). */
    void asyncEnabled(BooleanSupplier probe) {
        this.asyncProbe = probe;
    }

    private boolean asyncEnabled() {
        Boolean known = asyncEnabled;
        if (known == null) {
            asyncEnabled = known = asyncProbe.getAsBoolean(); // two first guards may both ask: the same answer
        }
        return known;
    }

    /** Classes by whether they or their methods carry an annotation of this starter. */
    private final Map<Class<?>, Boolean> annotatedClasses = new ConcurrentHashMap<>();

    /**
     * True if {@code type} or one of its methods carries an annotation of this starter; cached, and
     * false at once for classes that cannot carry them (the JDK's, Spring's own), so the post-processor
     * costs next to nothing for the application's other beans.
     */
    boolean annotated(Class<?> type) {
        Boolean known = annotatedClasses.get(type);
        if (known == null) {
            known = scan(type);
            annotatedClasses.putIfAbsent(type, known);
        }
        return known;
    }

    private static boolean scan(Class<?> type) {
        if (Proxy.isProxyClass(type) || !AnnotationUtils.isCandidateClass(type, ANNOTATIONS)
                || type.getName().startsWith("org.springframework.")) {
            return false; // Spring's own classes (most of an application's beans) cannot carry ours
        }
        return carries(type, new HashSet<>());
    }

    /**
     * True if {@code type}, a class or interface above it, or a method declared in any of them carries
     * one of the annotations, directly or as a meta-annotation: what a type-hierarchy search of the
     * class and of each of its methods would find, in one pass over the declared annotations (most
     * beans' methods have none), so the scan of an application's hundreds of other beans stays cheap.
     */
    private static boolean carries(Class<?> type, Set<Class<?>> visited) {
        if (type == null || type == Object.class || !visited.add(type)) {
            return false;
        }
        if (carries(type.getDeclaredAnnotations())) {
            return true;
        }
        boolean[] found = {false};
        try {
            // Spring's cached declared methods, which its other post-processors have usually read already
            ReflectionUtils.doWithLocalMethods(type, m -> found[0] |= carries(m.getDeclaredAnnotations()));
        } catch (IllegalStateException | LinkageError e) {
            // a signature naming a class that is not on the class path: as Spring's @EventListener scan, skip
        }
        if (found[0]) {
            return true;
        }
        if (carries(type.getSuperclass(), visited)) {
            return true;
        }
        for (Class<?> i : type.getInterfaces()) {
            if (carries(i, visited)) {
                return true;
            }
        }
        return false;
    }

    private static boolean carries(Annotation[] annotations) {
        for (Annotation a : annotations) {
            if (isOurs(a.annotationType())) {
                return true;
            }
        }
        return false;
    }

    /** Annotation types by whether they are one of ours or meta-annotated with one. */
    private static final Map<Class<? extends Annotation>, Boolean> OURS = new ConcurrentHashMap<>();

    private static boolean isOurs(Class<? extends Annotation> type) {
        if (ANNOTATIONS.contains(type)) {
            return true;
        }
        if (type.getName().startsWith("java.")) {
            return false;
        }
        Boolean known = OURS.get(type);
        if (known == null) {
            MergedAnnotations meta = MergedAnnotations.from(type, MergedAnnotations.SearchStrategy.DIRECT);
            known = false;
            for (Class<? extends Annotation> ours : ANNOTATIONS) {
                known |= meta.isPresent(ours);
            }
            OURS.putIfAbsent(type, known);
        }
        return known;
    }

    /**
     * Builds the guard of every annotated method of {@code type} (a bean's user class).
     *
     * @throws ConfigurationException listing every problem of the class's annotations
     */
    public void validate(Class<?> type, String beanName) {
        List<Problem> problems = new ArrayList<>();
        if (Modifier.isFinal(type.getModifiers()) && !type.isInterface()) {
            problems.add(new Problem(type.getName(), "", "a final class cannot be proxied, so its annotations would do"
                    + " nothing: make it non-final (bean '" + beanName + "')"));
        }
        Set<Method> seen = new LinkedHashSet<>();
        ReflectionUtils.doWithMethods(type, m -> {
            Method specific = AopUtils.getMostSpecificMethod(m, type);
            if (seen.add(specific)) {
                try {
                    guard(specific, type);
                } catch (ConfigurationException e) {
                    for (Problem p : e.problems()) {
                        problems.add(new Problem(p.key(), p.value(), p.message() + " (bean '" + beanName + "')"));
                    }
                }
            }
        }, m -> !m.isBridge() && !m.isSynthetic() && m.getDeclaringClass() != Object.class);
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
    }

    /**
     * The guard of {@code method} called on an instance of {@code type} (or through a proxy of
     * interface {@code type}), or null if it is not annotated (nor its class, for a public method).
     *
     * @throws ConfigurationException if its annotations are wrong (see {@link Resilient})
     */
    Guard guard(Method method, Class<?> type) {
        if (!annotated(type)) {
            return null;
        }
        Map<Method, Optional<Guard>> ofType = guards.get(type);
        if (ofType == null) {
            Map<Method, Optional<Guard>> fresh = new ConcurrentHashMap<>(); // no lambda: this runs at startup
            ofType = guards.putIfAbsent(type, fresh);
            if (ofType == null) {
                ofType = fresh;
            }
        }
        Optional<Guard> g = ofType.get(method);
        if (g == null) {
            // The most specific method, bridges resolved: a generic interface's get(Object) is get(String).
            g = Optional.ofNullable(build(AopUtils.getMostSpecificMethod(method, type), type));
            Optional<Guard> first = ofType.putIfAbsent(method, g);
            if (first != null) {
                g = first; // another thread built it too: every caller gets the same guard
            }
        }
        return g.orElse(null);
    }

    /**
     * The guard for a call of {@code method} on {@code target} (null for a proxy without one, such as
     * an HTTP interface client): the target's class first, else the interface that declares the method.
     */
    Guard guardFor(Method method, Object target) {
        Guard g = target == null ? null : guard(method, ClassUtils.getUserClass(AopUtils.getTargetClass(target)));
        if (g == null && method.getDeclaringClass().isInterface()) {
            g = guard(method, method.getDeclaringClass());
        }
        return g;
    }

    /**
     * The guard for a call of {@code method} on a proxy of the annotated {@code interfaces}: as
     * {@link #guardFor}, else the first of those interfaces that inherits the method (a type-level
     * annotation on a repository interface covers the methods it inherits, {@code findById} say).
     */
    Guard guardFor(Method method, Object target, List<Class<?>> interfaces) {
        Guard g = guardFor(method, target);
        if (g == null) {
            for (int k = 0; k < interfaces.size(); k++) { // indexed: an iterator would be allocated per call
                Class<?> i = interfaces.get(k);
                if (i != method.getDeclaringClass() && method.getDeclaringClass().isAssignableFrom(i)) {
                    g = guard(method, i);
                    if (g != null) {
                        break;
                    }
                }
            }
        }
        return g;
    }

    private Guard build(Method method, Class<?> type) {
        if (method.getDeclaringClass() == Object.class || method.isBridge() || method.isSynthetic()) {
            return null;
        }
        List<Annotation> own = annotationsOf(method);
        String where = ClassUtils.getQualifiedMethodName(method, type) + "("
                + simpleNames(method.getParameterTypes(), ", ", "") + ")";
        int modifiers = method.getModifiers();
        if (!own.isEmpty()) {
            String cannot = Modifier.isStatic(modifiers) ? "static" : Modifier.isPrivate(modifiers) ? "private"
                    : Modifier.isFinal(modifiers) ? "final" : null;
            if (cannot != null) {
                throw new ConfigurationException(List.of(new Problem(where, describeAll(own), "a " + cannot + " method is not called through the proxy,"
                        + " so its annotations would do nothing: make it a non-" + cannot + " method of the bean")));
            }
        }
        List<Annotation> found = own;
        if (found.isEmpty() && Modifier.isPublic(modifiers) && !Modifier.isStatic(modifiers) && !isObjectMethod(method)) {
            // A class's annotations cover the public methods it declares, and its subclasses' (as
            // Spring's @Transactional does): not one it inherits from a class without them (a
            // framework base class). An interface's cover what it inherits (a repository's findById):
            // a proxy of it has no class of the application's.
            found = annotationsOf(type.isInterface() ? type : method.getDeclaringClass());
            if (fallbackNames(found).contains(method.getName())) {
                return null; // the class's fallback is not guarded by the class's annotations
            }
            if (!found.isEmpty() && Modifier.isFinal(modifiers)) {
                throw new ConfigurationException(List.of(new Problem(where, describeAll(found), "a final public method under the class's annotations cannot"
                        + " be guarded (a proxy cannot override it): make it non-final")));
            }
        }
        if (found.isEmpty()) {
            return null;
        }
        String what = describeAll(found);
        List<Problem> problems = new ArrayList<>();
        Guard.Returns returns = returns(method, type, asyncEnabled(), where, what, problems);
        boolean pipeline = found.get(0) instanceof Resilient;
        if (pipeline && found.size() > 1) {
            problems.add(new Problem(where, what, "@Resilient names a whole pipeline: it cannot be stacked with"
                    + " per-policy annotations (configure them in the pipeline instead)"));
        }
        Set<String> fallbackNames = fallbackNames(found);
        if (fallbackNames.size() > 1) {
            problems.add(new Problem(where, what, "the stacked annotations name different fallback methods "
                    + fallbackNames + ": one fallback runs outermost, so name it on one annotation only"));
        }
        boolean noTarget = type.isInterface();
        if (noTarget && !fallbackNames.isEmpty()) {
            problems.add(new Problem(where, what, "a fallbackMethod needs a class of yours to live in: annotated on an"
                    + " interface (a proxy such as an HTTP interface client or a repository), the method has none;"
                    + " put the fallback on the calling bean's method"));
        }
        List<Method> fallbacks = fallbackNames.size() == 1 && !noTarget
                ? fallbacks(type, method, fallbackNames.iterator().next(), where, what, problems) : List.of();
        Pipeline<Object> built = null;
        try {
            built = pipeline(found, where);
        } catch (ConfigurationException e) {
            for (Problem p : e.problems()) {
                problems.add(new Problem(p.key(), p.value(), p.message() + " (needed by " + where + " " + what + ")"));
            }
        }
        String streamProblem = returns == Guard.Returns.FLUX && built != null ? GuardedStream.problem(built) : null;
        if (streamProblem != null) {
            problems.add(new Problem(where, what, streamProblem));
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        ReflectionUtils.makeAccessible(method);
        for (Method f : fallbacks) {
            ReflectionUtils.makeAccessible(f);
        }
        return new Guard(where + " " + what, built, returns, fallbacks);
    }

    private Pipeline<Object> pipeline(List<Annotation> found, String where) {
        ResilienceRegistry r = registry.get();
        if (found.get(0) instanceof Resilient resilient) {
            return r.pipeline(EnvironmentConfiguration.canonicalName(resilient.name()));
        }
        Pipeline.Builder<Object> b = Pipeline.builder(where);
        List<ConfigurationException> failures = new ArrayList<>();
        for (Annotation a : found) {
            try {
                b.add(policy(r, a));
            } catch (ConfigurationException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            List<Problem> problems = new ArrayList<>();
            for (ConfigurationException e : failures) {
                problems.addAll(e.problems());
            }
            throw new ConfigurationException(problems);
        }
        return b.inDefaultOrder().build();
    }

    private static Policy policy(ResilienceRegistry r, Annotation a) {
        if (a instanceof Retry x) {
            return r.retry(EnvironmentConfiguration.canonicalName(x.name()));
        } else if (a instanceof CircuitBreaker x) {
            return r.circuitBreaker(EnvironmentConfiguration.canonicalName(x.name()));
        } else if (a instanceof RateLimiter x) {
            return r.rateLimiter(EnvironmentConfiguration.canonicalName(x.name()));
        } else if (a instanceof Timeout x) {
            return r.timeout(EnvironmentConfiguration.canonicalName(x.name()));
        } else if (a instanceof Bulkhead x) {
            return r.bulkhead(EnvironmentConfiguration.canonicalName(x.name()));
        }
        throw new IllegalStateException("not a policy annotation: " + a);
    }

    private static List<Annotation> annotationsOf(java.lang.reflect.AnnotatedElement element) {
        MergedAnnotations merged = MergedAnnotations.from(element, MergedAnnotations.SearchStrategy.TYPE_HIERARCHY); // one scan for all six
        List<Annotation> out = new ArrayList<>();
        for (Class<? extends Annotation> type : ANNOTATIONS) {
            MergedAnnotation<?> a = merged.get(type);
            if (a.isPresent()) {
                out.add(a.synthesize());
            }
        }
        return out;
    }

    private static String fallbackName(Annotation a) {
        if (a instanceof Resilient x) {
            return x.fallbackMethod();
        } else if (a instanceof Retry x) {
            return x.fallbackMethod();
        } else if (a instanceof CircuitBreaker x) {
            return x.fallbackMethod();
        } else if (a instanceof RateLimiter x) {
            return x.fallbackMethod();
        } else if (a instanceof Timeout x) {
            return x.fallbackMethod();
        } else if (a instanceof Bulkhead x) {
            return x.fallbackMethod();
        }
        return "";
    }

    /**
     * Whether Spring's {@code @Async} (or an annotation carrying it) is on the method, its declaring
     * class or the bean's class {@code type} (a subclass's {@code @Async} covers inherited methods).
     */
    private static boolean isAsync(Method method, Class<?> type) {
        return ASYNC != null && (AnnotatedElementUtils.hasAnnotation(method, ASYNC)
                || AnnotatedElementUtils.hasAnnotation(method.getDeclaringClass(), ASYNC)
                || AnnotatedElementUtils.hasAnnotation(type, ASYNC));
    }

    /** Spring's {@code @Async}, or null if spring-context's scheduling support is absent. */
    private static final Class<? extends Annotation> ASYNC = asyncAnnotation();

    @SuppressWarnings("unchecked")
    private static Class<? extends Annotation> asyncAnnotation() {
        try {
            return (Class<? extends Annotation>) Class.forName("org.springframework.scheduling.annotation.Async",
                    false, Guards.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError absent) {
            return null;
        }
    }

    private static String describe(Annotation a) {
        String name = a instanceof Resilient x ? x.name() : a instanceof Retry x ? x.name()
                : a instanceof CircuitBreaker x ? x.name() : a instanceof RateLimiter x ? x.name()
                : a instanceof Timeout x ? x.name() : a instanceof Bulkhead x ? x.name() : "?";
        String fallback = fallbackName(a);
        return "@" + a.annotationType().getSimpleName() + "(name=\"" + name + "\""
                + (fallback.isEmpty() ? "" : ", fallbackMethod=\"" + fallback + "\"") + ")";
    }

    private static Guard.Returns returns(Method method, Class<?> type, boolean asyncEnabled, String where, String what,
            List<Problem> problems) {
        Class<?> returned = method.getReturnType();
        if (returned == CompletableFuture.class || returned == CompletionStage.class) {
            return Guard.Returns.STAGE;
        } else if (asyncEnabled && isAsync(method, type)) {
            // Spring's async advice runs inside ours: the guard would see only the submission (no
            // retry, no failure for the breaker, a bulkhead or timeout bounding nothing but that).
            problems.add(new Problem(where, what, "is @Async and returns " + returned.getSimpleName() + ": the guard would"
                    + " see only the task's submission; return CompletableFuture (the guard then wraps the"
                    + " asynchronous call) or guard the code the task runs"));
        } else if (CompletionStage.class.isAssignableFrom(returned)) {
            problems.add(new Problem(where, what, "returns " + returned.getName() + ": an asynchronous method must declare"
                    + " CompletionStage or CompletableFuture, which the pipeline's asynchronous path returns"));
        } else if (REACTOR && returned.getName().equals("reactor.core.publisher.Mono")) {
            return Guard.Returns.MONO;
        } else if (REACTOR && returned.getName().equals("reactor.core.publisher.Flux")) {
            return Guard.Returns.FLUX;
        } else if (returned.getName().equals("org.reactivestreams.Publisher")) {
            problems.add(new Problem(where, what, "returns Publisher: declare Flux or Mono, whose guards differ"
                    + " (a Flux is retried only before its first element)"));
        }
        return Guard.Returns.VALUE;
    }

    /** The fallback candidates, most specific exception first; adds a problem if there is none. */
    private static List<Method> fallbacks(Class<?> type, Method method, String name, String where, String what,
            List<Problem> problems) {
        Class<?>[] params = method.getParameterTypes();
        List<Method> candidates = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        ReflectionUtils.doWithMethods(type, m -> {
            Class<?>[] p = m.getParameterTypes();
            String signature = m.getDeclaringClass().getSimpleName() + "." + m.getName() + "("
                    + simpleNames(p, ", ", "") + ")";
            if (p.length != params.length + 1 || !Throwable.class.isAssignableFrom(p[params.length])) {
                rejected.add(signature + ": the last parameter must be a Throwable after the method's own");
            } else if (!Arrays.equals(Arrays.copyOf(p, params.length), params)) {
                rejected.add(signature + ": the first parameters must be the method's own");
            } else if (!returnsCompatible(method.getReturnType(), m.getReturnType())) {
                rejected.add(signature + ": returns " + m.getReturnType().getSimpleName() + ", not "
                        + method.getReturnType().getSimpleName());
            } else if (Modifier.isStatic(m.getModifiers())) {
                rejected.add(signature + ": static");
            } else if (!sameParameters(candidates, p)) {
                candidates.add(m); // a subclass's override comes first and hides the inherited one
            }
        }, m -> m.getName().equals(name) && !m.isBridge() && !m.isSynthetic());
        if (candidates.isEmpty()) {
            String wanted = method.getReturnType().getSimpleName() + " " + name + "("
                    + simpleNames(params, "", ", ")
                    + "<Throwable or a subtype>)";
            problems.add(new Problem(where, what, "fallbackMethod '" + name + "' matches no method: wanted " + wanted
                    + " in " + type.getName() + " or a superclass; "
                    + (rejected.isEmpty() ? "no method has that name" : "tried " + String.join("; ", rejected))));
            return List.of();
        }
        candidates.sort(Comparator.comparingInt(m -> -depth(m.getParameterTypes()[params.length])));
        return List.copyOf(candidates);
    }

    /** The simple names of {@code types}, each followed by {@code after}, separated by {@code between}. */
    private static String simpleNames(Class<?>[] types, String between, String after) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < types.length; i++) {
            b.append(i == 0 ? "" : between).append(types[i].getSimpleName()).append(after);
        }
        return b.toString();
    }

    private static boolean sameParameters(List<Method> methods, Class<?>[] parameters) {
        for (Method m : methods) {
            if (Arrays.equals(m.getParameterTypes(), parameters)) {
                return true;
            }
        }
        return false;
    }

    /** The annotations as written in source, separated by spaces. */
    private static String describeAll(List<Annotation> annotations) {
        StringBuilder b = new StringBuilder();
        for (Annotation a : annotations) {
            b.append(b.length() == 0 ? "" : " ").append(describe(a));
        }
        return b.toString();
    }

    /** The non-empty fallback names of {@code annotations}, in order. */
    private static Set<String> fallbackNames(List<Annotation> annotations) {
        Set<String> names = new LinkedHashSet<>();
        for (Annotation a : annotations) {
            String n = fallbackName(a);
            if (!n.isEmpty()) {
                names.add(n);
            }
        }
        return names;
    }

    /** {@code equals}, {@code hashCode} and {@code toString}: never guarded by a class's annotations. */
    private static boolean isObjectMethod(Method m) {
        return ReflectionUtils.isEqualsMethod(m) || ReflectionUtils.isHashCodeMethod(m) || ReflectionUtils.isToStringMethod(m);
    }

    private static boolean returnsCompatible(Class<?> declared, Class<?> fallback) {
        if (declared == void.class) {
            return fallback == void.class;
        }
        return ClassUtils.isAssignable(declared, fallback);
    }

    private static int depth(Class<?> type) {
        int depth = 0;
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            depth++;
        }
        return depth;
    }
}
