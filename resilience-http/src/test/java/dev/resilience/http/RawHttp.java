package dev.resilience.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.0 over a plain socket on loopback, for tests of the inbound filters: any header bytes at
 * all (java.net.http refuses some), and a connection the test can drop mid-request.
 */
public final class RawHttp {

    /**
     * A response: status, body (HTTP/1.0, so the body runs to the end of the connection) and the
     * raw header lines.
     */
    public record Response(int status, String body, String head) {

        /** The first value of header {@code name} (case-insensitive), or null. */
        public String header(String name) {
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).strip().equalsIgnoreCase(name)) {
                    return line.substring(colon + 1).strip();
                }
            }
            return null;
        }
    }

    private RawHttp() {
    }

    /**
     * Sends a GET with the given raw header lines (each {@code "name: value"}, sent as UTF-8) and
     * reads the whole response.
     */
    public static Response get(int port, String path, String... headerLines) throws IOException {
        try (Socket s = open(port, path, headerLines)) {
            s.setSoTimeout(20_000);
            return read(s.getInputStream());
        }
    }

    /** Sends a GET and returns the open connection without reading; the caller closes it. */
    public static Socket open(int port, String path, String... headerLines) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        try {
            StringBuilder req = new StringBuilder("GET ").append(path).append(" HTTP/1.0\r\n")
                    .append("Host: 127.0.0.1:").append(port).append("\r\n");
            for (String h : headerLines) {
                req.append(h).append("\r\n");
            }
            req.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    private static Response read(InputStream in) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        in.transferTo(all);
        String text = all.toString(StandardCharsets.ISO_8859_1);
        int lineEnd = text.indexOf("\r\n");
        int headEnd = text.indexOf("\r\n\r\n");
        if (lineEnd < 0 || headEnd < 0) {
            throw new IOException("not an HTTP response: " + text);
        }
        String[] statusLine = text.substring(0, lineEnd).split(" ", 3);
        return new Response(Integer.parseInt(statusLine[1]), text.substring(headEnd + 4),
                text.substring(Math.min(lineEnd + 2, headEnd), headEnd));
    }
}
