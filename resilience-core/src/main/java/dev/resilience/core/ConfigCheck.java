package dev.resilience.core;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Properties;

/**
 * Checks {@code .properties} files against {@link ResilienceRegistry}'s keys without starting an
 * application, e.g. in CI:
 *
 * <pre>
 * java -cp resilience-core.jar:resilience-context.jar dev.resilience.core.ConfigCheck app.properties
 * </pre>
 *
 * <p>For each file (read as UTF-8) it prints {@code OK <file>}, or each problem as
 * {@code <file>: <key>=<value>: <why>}, to standard output. Exit status: 0 when every file is valid,
 * 1 when any has a problem, 2 on a usage error or a file that cannot be read (reported on standard
 * error; the other files are still checked).
 */
public final class ConfigCheck {

    private ConfigCheck() {
    }

    /**
     * Checks the files named in {@code args} and exits with the status {@link #run} returns.
     *
     * @param args the files to check
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Checks the files named in {@code args}, printing to {@code out} and {@code err}.
     *
     * @param args the files to check, at least one
     * @param out where {@code OK} lines and problems go
     * @param err where usage and read errors go
     * @return 0 if every file is valid, 1 if any has a problem, 2 on a usage or read error
     * @throws NullPointerException if an argument is null
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0) {
            err.println("usage: java dev.resilience.core.ConfigCheck FILE.properties...");
            return 2;
        }
        int status = 0;
        for (String file : args) {
            Properties properties = new Properties();
            try (Reader in = Files.newBufferedReader(Paths.get(file), StandardCharsets.UTF_8)) {
                properties.load(in);
            } catch (IOException | IllegalArgumentException e) {
                err.println(file + ": cannot read: " + e);
                status = 2;
                continue;
            }
            try {
                ResilienceRegistry.of(properties);
                out.println("OK " + file);
            } catch (ConfigurationException e) {
                for (ConfigurationException.Problem p : e.problems()) {
                    out.println(file + ": " + p);
                }
                status = Math.max(status, 1);
            } catch (RuntimeException e) { // a defect of ours, not of the file: say so, check the next file
                err.println(file + ": could not be checked: " + e);
                status = 2;
            }
        }
        return status;
    }
}
