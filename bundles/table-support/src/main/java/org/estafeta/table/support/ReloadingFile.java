package org.estafeta.table.support;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.util.function.Function;

/**
 * A table source file kept in memory and read again when its modification time (or size) changes, checked at
 * most once a second on the plugin context's clock. A file that cannot be read any more keeps answering with the
 * reason, so lookups become temporary failures rather than "not found".
 *
 * @param <T> what one read of the file compiles to
 */
public final class ReloadingFile<T> {
    public static final long RECHECK_MILLIS = 1000;

    private final Path file;
    private final Clock clock;
    private final Function<String, T> compile;
    private volatile State<T> state;

    /** One read: the compiled contents, or why the file could not be read. */
    public record State<T>(FileTime mtime, long size, long checkedAt, T contents, String failure) {
    }

    private ReloadingFile(Path file, Clock clock, Function<String, T> compile, State<T> first) {
        this.file = file;
        this.clock = clock;
        this.compile = compile;
        this.state = first;
    }

    /**
     * Reads {@code file} now; {@code compile} turns its text into the table (and reports its own warnings), or
     * throws {@link IllegalArgumentException} naming file and line when the table cannot be used at all.
     *
     * @return the source, or {@code null} after {@code failure} received the reason
     */
    public static <T> ReloadingFile<T> open(Path file, Clock clock, Function<String, T> compile,
            java.util.function.Consumer<String> failure) {
        State<T> first = read(file, clock.millis(), compile);
        if (first.failure() != null) {
            failure.accept(first.failure());
            return null;
        }
        return new ReloadingFile<>(file, clock, compile, first);
    }

    /** The current state, re-read first when the file changed and the last check is a second old. */
    public State<T> current() {
        State<T> s = state;
        long now = clock.millis();
        if (now - s.checkedAt() < RECHECK_MILLIS) {
            return s;
        }
        synchronized (this) {
            s = state;
            if (now - s.checkedAt() < RECHECK_MILLIS) {
                return s;
            }
            FileTime mtime = modified(file);
            long size = size(file);
            if (s.failure() == null && mtime != null && mtime.equals(s.mtime()) && size == s.size()) {
                state = new State<>(s.mtime(), s.size(), now, s.contents(), null);
            } else {
                state = read(file, now, compile);
            }
            return state;
        }
    }

    private static <T> State<T> read(Path file, long now, Function<String, T> compile) {
        FileTime mtime = modified(file);
        long size = size(file);
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return new State<>(mtime, size, now, null, "open " + file + ": " + reason(e));
        }
        try {
            return new State<>(mtime, size, now, compile.apply(text), null);
        } catch (IllegalArgumentException refused) {
            // the table refuses the text as a whole (a syntax error); its message names file and line
            return new State<>(mtime, size, now, null, refused.getMessage());
        }
    }

    /** The C library's words for the common causes, as Postfix prints them ({@code %m}). */
    public static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "Permission denied";
        }
        if (e.getMessage() != null && e.getMessage().contains("Is a directory")) {
            return "Is a directory";
        }
        return e.toString();
    }

    private static FileTime modified(Path file) {
        try {
            return Files.getLastModifiedTime(file);
        } catch (IOException e) {
            return null;
        }
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }
}
