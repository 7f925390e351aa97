package dev.resilience.examples;

import dev.resilience.context.CancelHandle;
import dev.resilience.context.Context;
import dev.resilience.context.Scope;
import dev.resilience.http.HttpDeadlines;
import dev.resilience.http.InboundDeadlines;
import dev.resilience.http.servlet.DeadlineFilter;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.apache.catalina.Wrapper;
import org.apache.catalina.connector.Connector;
import org.apache.catalina.startup.Tomcat;
import org.apache.tomcat.util.descriptor.web.FilterDef;
import org.apache.tomcat.util.descriptor.web.FilterMap;

/**
 * The caller's deadline inside a servlet container: an embedded Tomcat serves a servlet behind
 * {@link DeadlineFilter}, which reads each request's {@code grpc-timeout} header, bounds it by the
 * server's maximum (2 s here) and makes it the servlet's {@link Context}. A request whose deadline
 * has already passed is answered 504 without running the servlet.
 *
 * <p>Run: {@code mvn -B -q -pl examples -am compile exec:java -Dexec.mainClass=dev.resilience.examples.ServletDeadlineFilterDemo}
 */
public final class ServletDeadlineFilterDemo {

    /**
     * Tomcat's start-up lines would bury the demo's, and the class-loader leak checks it runs on stop
     * cannot work under {@code exec:java}'s class loader; held so the setting stays.
     */
    private static final Logger TOMCAT_LOG = Logger.getLogger("org.apache");

    private ServletDeadlineFilterDemo() {
    }

    public static void main(String[] args) throws Exception {
        Outcome o = run(System.out);
        System.out.printf("[summary] requests-the-servlet-ran=%d expired-status=%d expired-not-run=%s%n",
                o.servletSaw().size(), o.expiredStatus(), o.expiredStatus() == 504);
    }

    /** What the servlet saw of each request it ran (in order), and the status of the expired one. */
    record Outcome(List<String> servletSaw, int expiredStatus) {
    }

    static Outcome run(PrintStream out) throws Exception {
        TOMCAT_LOG.setLevel(Level.SEVERE);
        List<String> saw = new CopyOnWriteArrayList<>();
        Path baseDir = Files.createTempDirectory("servlet-deadline-demo");
        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(baseDir.toString());
        Connector connector = new Connector();
        connector.setPort(0);
        connector.setProperty("address", "127.0.0.1");
        tomcat.setConnector(connector);
        org.apache.catalina.Context app = tomcat.addContext("", baseDir.toString());

        // The servlet: whatever it calls sees the caller's deadline through Context.current().
        Wrapper servlet = Tomcat.addServlet(app, "quote", new HttpServlet() {
            private static final long serialVersionUID = 1L;

            @Override
            protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
                String left = Context.current().remaining().map(d -> d.toMillis() + " ms left").orElse("no deadline");
                saw.add(left);
                out.printf("[servlet] %s%n", left);
                resp.setContentType("text/plain");
                resp.getWriter().write(left);
            }
        });
        app.addServletMapping("/quote", servlet.getName());

        // The filter, registered programmatically (web.xml: init-params max-timeout=2s and so on).
        FilterDef def = new FilterDef();
        def.setFilterName("deadlines");
        def.setFilter(new DeadlineFilter(InboundDeadlines.builder().maxTimeout(Duration.ofSeconds(2)).build()));
        app.addFilterDef(def);
        FilterMap map = new FilterMap();
        map.setFilterName("deadlines");
        map.addURLPattern("/*");
        app.addFilterMap(map);

        tomcat.start();
        int expired;
        try {
            URI uri = URI.create("http://127.0.0.1:" + connector.getLocalPort() + "/quote");
            HttpClient client = HttpClient.newHttpClient();
            call(client, HttpRequest.newBuilder(uri), "no deadline header", out);
            try (CancelHandle caller = Context.current().withTimeout(Duration.ofMillis(300)); Scope s = caller.attach()) {
                call(client, HttpDeadlines.propagate(HttpRequest.newBuilder(uri)), "caller waits 300 ms", out);
            }
            call(client, HttpRequest.newBuilder(uri).header("grpc-timeout", "30S"), "caller asks for 30 s", out);
            expired = call(client, HttpRequest.newBuilder(uri).header("grpc-timeout", "0m"), "deadline already passed",
                    out);
        } finally {
            tomcat.stop();
            tomcat.destroy();
            deleteTree(baseDir);
        }
        return new Outcome(List.copyOf(saw), expired);
    }

    private static int call(HttpClient client, HttpRequest.Builder request, String what, PrintStream out)
            throws IOException, InterruptedException {
        HttpRequest r = request.build();
        out.printf("[client]  %s (grpc-timeout: %s)%n", what, r.headers().firstValue("grpc-timeout").orElse("-"));
        HttpResponse<String> response = client.send(r, HttpResponse.BodyHandlers.ofString());
        out.printf("[client]  %d %s%n", response.statusCode(), response.body().isEmpty() ? "(servlet not run)"
                : response.body());
        return response.statusCode();
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
