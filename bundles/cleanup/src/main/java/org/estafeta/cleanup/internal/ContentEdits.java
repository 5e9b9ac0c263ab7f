package org.estafeta.cleanup.internal;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.estafeta.api.filter.HeaderEdit;
import org.estafeta.api.message.Header;

/**
 * Copies a spooled message into the queue file with content filters' header edits applied and, when a filter
 * replaced it, another body (docs/content-filters.md). The header section is read field by field (a field is its
 * first line and its continuation lines), edited as Postfix's cleanup applies a milter's change and delete requests
 * (the index-th field of that name, from 1; changing an absent field appends it), and written; the body is then
 * copied from the spool or from the replacement file. Memory holds the header section only, and not more than
 * {@link #MAX_HEADER_BYTES}: past that the rest is copied as it is.
 */
final class ContentEdits {
    /** Where the bytes go (the queue file writer). */
    interface Sink {
        void write(byte[] data, int offset, int length) throws IOException;
    }

    private ContentEdits() {
    }

    static final int MAX_HEADER_BYTES = 1 << 20;

    private static final class Field {
        final String name;
        final ByteArrayOutputStream raw = new ByteArrayOutputStream();

        Field(String name) {
            this.name = name;
        }
    }

    static void copy(Path message, List<HeaderEdit> edits, Optional<Path> body, Sink out, int headerSizeLimit)
            throws IOException {
        int limit = Math.max(headerSizeLimit * 4, 64 * 1024);
        limit = Math.min(limit, MAX_HEADER_BYTES);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(message), 65536)) {
            List<Field> fields = new ArrayList<>();
            byte[] separator = null;
            long read = 0;
            byte[] overflow = null;
            while (true) {
                byte[] line = readLine(in);
                if (line == null) {
                    break;
                }
                read += line.length;
                if (isBlank(line)) {
                    separator = line;
                    break;
                }
                if (read > limit) {
                    overflow = line; // an absurd header section: the rest goes through unedited
                    break;
                }
                boolean continuation = line[0] == ' ' || line[0] == '\t';
                if (continuation && !fields.isEmpty()) {
                    fields.get(fields.size() - 1).raw.write(line);
                    continue;
                }
                String text = new String(line, StandardCharsets.ISO_8859_1);
                int colon = text.indexOf(':');
                Field f = new Field(colon > 0 ? text.substring(0, colon).strip() : text.strip());
                f.raw.write(line);
                fields.add(f);
            }
            for (HeaderEdit e : edits) {
                apply(fields, e);
            }
            for (Field f : fields) {
                byte[] b = f.raw.toByteArray();
                out.write(b, 0, b.length);
            }
            if (overflow != null) {
                out.write(overflow, 0, overflow.length);
                copyRest(in, out);
                return;
            }
            if (separator != null) {
                out.write(separator, 0, separator.length);
            }
            if (body.isPresent()) {
                if (separator == null) {
                    byte[] crlf = {'\r', '\n'};
                    out.write(crlf, 0, 2);
                }
                try (InputStream b = Files.newInputStream(body.get())) {
                    copyRest(b, out);
                }
            } else {
                copyRest(in, out);
            }
        }
    }

    private static void apply(List<Field> fields, HeaderEdit e) {
        int seen = 0;
        for (int i = 0; i < fields.size(); i++) {
            if (!fields.get(i).name.toLowerCase(Locale.ROOT).equals(e.name().toLowerCase(Locale.ROOT))) {
                continue;
            }
            if (++seen < e.index()) {
                continue;
            }
            if (e.value().isEmpty()) {
                fields.remove(i);
            } else {
                fields.set(i, field(e.name(), e.value().get()));
            }
            return;
        }
        if (e.value().isPresent()) {
            fields.add(field(e.name(), e.value().get())); // Postfix: a change of an absent header appends it
        }
    }

    private static Field field(String name, String value) {
        Field f = new Field(name);
        byte[] b = FilterHeaderLines.lines(List.of(new Header(name, value.strip())));
        f.raw.write(b, 0, b.length);
        return f;
    }

    private static boolean isBlank(byte[] line) {
        return line.length == 2 && line[0] == '\r' && line[1] == '\n' || line.length == 1 && line[0] == '\n';
    }

    /** One line with its line end; null at the end of the stream. */
    private static byte[] readLine(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        while ((c = in.read()) >= 0) {
            b.write(c);
            if (c == '\n') {
                break;
            }
        }
        return b.size() == 0 ? null : b.toByteArray();
    }

    private static void copyRest(InputStream in, Sink out) throws IOException {
        byte[] buf = new byte[65536];
        int n;
        while ((n = in.read(buf)) >= 0) {
            out.write(buf, 0, n);
        }
    }
}
