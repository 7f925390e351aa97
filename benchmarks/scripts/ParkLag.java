import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/**
 * How late a thread keeps a fixed schedule of one wake-up per millisecond, parking in between: the
 * overload lab's generator loop without the lab, to tell the machine's lag from the lab's
 * (benchmarks/RESULTS.md, "The generator's lag again"). As in the lab, a stall makes the slots due
 * during it late too (a 20 ms stall counts about 20 late samples).
 * {@code java benchmarks/scripts/ParkLag.java [fifo|normal] [SECONDS]} (default normal, 10 s; 1 to
 * 3600 s): with {@code fifo} the thread first puts itself under SCHED_FIFO 10 with {@code chrt}, as
 * the lab's generator does (needs root or CAP_SYS_NICE). Prints the lateness percentiles and how many
 * seconds had a wake-up over 1 ms late.
 * Run it alone, beside spinning processes, or while the lab runs.
 */
public final class ParkLag {

    private ParkLag() {
    }

    /**
     * Runs the probe.
     *
     * @param args {@code fifo} or {@code normal}, then the seconds to run (default 10)
     * @throws Exception if {@code chrt} cannot be started
     */
    public static void main(String[] args) throws Exception {
        String mode = args.length > 0 ? args[0] : "normal";
        if (!mode.equals("fifo") && !mode.equals("normal")) {
            throw new IllegalArgumentException("first argument: fifo or normal, not " + mode);
        }
        boolean fifo = mode.equals("fifo");
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        if (seconds < 1 || seconds > 3600) {
            throw new IllegalArgumentException("seconds: 1 to 3600, not " + seconds);
        }
        if (fifo) {
            String tid = Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString();
            int exit = new ProcessBuilder("chrt", "-f", "-p", "10", tid).inheritIO().start().waitFor();
            if (exit != 0) {
                throw new IllegalStateException("chrt failed (exit " + exit + "): run as root or without fifo");
            }
        }
        int n = seconds * 1000;
        long[] late = new long[n];
        long next = System.nanoTime() + 1_000_000;
        for (int i = 0; i < n; i++) {
            for (long wait; (wait = next - System.nanoTime()) > 0; ) {
                LockSupport.parkNanos(wait);
            }
            late[i] = System.nanoTime() - next;
            next += 1_000_000;
        }
        int overSeconds = 0;
        for (int s = 0; s < seconds; s++) {
            long max = 0;
            for (int i = s * 1000; i < s * 1000 + 1000; i++) {
                max = Math.max(max, late[i]);
            }
            overSeconds += max > 1_000_000 ? 1 : 0;
        }
        long[] sorted = late.clone();
        Arrays.sort(sorted);
        System.out.printf("%s: late p50 %.3f p99 %.3f p99.9 %.3f max %.3f ms; seconds with a wake-up over 1 ms late: %d of %d%n",
                fifo ? "SCHED_FIFO" : "normal", sorted[n / 2] / 1e6, sorted[(int) (n * 99L / 100)] / 1e6,
                sorted[(int) (n * 999L / 1000)] / 1e6, sorted[n - 1] / 1e6, overSeconds, seconds);
    }
}
