package dev.resilience.pool;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Captures what a class logs through {@code System.Logger} (JUL underneath) while a test provokes
 * failures on purpose: the records are kept for assertions and do not reach the build output.
 */
final class CapturedLog implements AutoCloseable {

    private final Logger logger;
    private final boolean parentHandlers;
    private final Level level;
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            records.add(record);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    private CapturedLog(Class<?> source) {
        this.logger = Logger.getLogger(source.getName());
        this.parentHandlers = logger.getUseParentHandlers();
        this.level = logger.getLevel();
        logger.setUseParentHandlers(false);
        logger.setLevel(Level.ALL);
        logger.addHandler(handler);
    }

    static CapturedLog of(Class<?> source) {
        return new CapturedLog(source);
    }

    List<LogRecord> records() {
        return List.copyOf(records);
    }

    /** Whether a record at {@code level} says {@code text} somewhere in its message. */
    boolean has(Level level, String text) {
        return records.stream().anyMatch(r -> r.getLevel().equals(level) && r.getMessage().contains(text));
    }

    @Override
    public void close() {
        logger.removeHandler(handler);
        logger.setLevel(level);
        logger.setUseParentHandlers(parentHandlers);
    }
}
