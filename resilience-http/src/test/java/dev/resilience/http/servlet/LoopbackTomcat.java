package dev.resilience.http.servlet;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import jakarta.servlet.Filter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.core.StandardContext;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * An embedded Tomcat 11 for the servlet filters' tests: one application at the root, a connector on
 * a free loopback port, quiet logs. Add servlets and filters to {@link #app}, then {@link #start}.
 */
final class LoopbackTomcat {

    /** Tomcat's start-up lines would bury the test output. Held so the setting stays. */
    private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");

    final Tomcat tomcat;
    final StandardContext app;
    private final Connector connector;

    LoopbackTomcat(Path baseDir) {
        TOMCAT_LOG.setLevel(Level.WARNING);
        // The toolkit's deadline timer thread starts on first use and keeps the context class loader
        // of the thread that started it: started inside a request it would pin the web application's
        // loader, and Tomcat warns about it on stop. Start it here, outside the application.
        try (CancelHandle warm = Context.background().withTimeout(Duration.ofMinutes(1))) {
            warm.context().onDone(() -> { }, Runnable::run);
        }
        tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        app = (StandardContext) tomcat.addContext("", baseDir.toAbsolutePath().toString());
        app.setClearReferencesThreadLocals(false); // leak checks that need --add-opens: not what is tested
        app.setClearReferencesRmiTargets(false);
    }

    /**
     * Adds {@code filter} on every path ({@code /*}) for the given dispatcher types, after the
     * filters added before it.
     */
    void addFilter(String name, Filter filter, String... dispatchers) {
        FilterDef def = new FilterDef();
        def.setFilterName(name);
        def.setFilter(filter);
        def.setAsyncSupported("true");
        app.addFilterDef(def);
        FilterMap map = new FilterMap();
        map.setFilterName(name);
        map.addURLPattern("/*");
        for (String d : dispatchers) {
            map.setDispatcher(d);
        }
        app.addFilterMap(map);
    }

    /**
     * Starts Tomcat.
     *
     * @return the port it listens on
     */
    int start() throws Exception {
        tomcat.start();
        int port = connector.getLocalPort();
        if (port <= 0) {
            throw new IllegalStateException("Tomcat does not listen");
        }
        return port;
    }

    /** Stops and destroys Tomcat. */
    void stop() throws Exception {
        tomcat.stop();
        tomcat.destroy();
    }
}
