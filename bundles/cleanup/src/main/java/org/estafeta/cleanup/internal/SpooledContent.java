package org.estafeta.cleanup.internal;

import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;

/**
 * A message as content filters see it: the message as it will be stored, read from disk each time. It is the
 * lines cleanup put on top (access PREPEND, Received), then the headers earlier filters added, then the spool
 * file holding the rest as cleanup wrote it. Memory: the top lines and the added headers (a few hundred bytes), and
 * the parsed header list once asked for, whatever the message size.
 *
 * <p>Safe to use from any thread; each {@code open*} call opens the spool file anew.
 */
final class SpooledContent implements MessageContent {
    /** The most header-section bytes {@link #headers()} parses; longer sections are cut there. */
    private final int headerLimit;
    private final byte[] top;
    private final byte[] added;
    private final Path spool;
    private final long spoolSize;
    private volatile Parsed parsed;

    private record Parsed(List<Header> headers, long bodyOffset) {
    }

    /**
     * @param top the bytes cleanup wrote before the message (PREPEND lines, Received)
     * @param added the header lines filters added so far (CRLF-terminated), placed after {@code top}
     * @param spool the file with the rest of the message, complete and flushed
     * @param headerLimit cleanup's header_size_limit plus room for the lines on top
     */
    SpooledContent(byte[] top, byte[] added, Path spool, long spoolSize, int headerLimit) {
        this.top = top;
        this.added = added;
        this.spool = spool;
        this.spoolSize = spoolSize;
        this.headerLimit = headerLimit;
    }

    @Override
    public List<Header> headers() {
        return parsed().headers();
    }

    @Override
    public InputStream openBody() throws IOException {
        long offset = parsed().bodyOffset();
        InputStream in = openMessage();
        try {
            in.skipNBytes(offset);
        } catch (IOException | RuntimeException e) {
            in.close();
            throw e;
        }
        return in;
    }

    @Override
    public InputStream openMessage() throws IOException {
        return new SequenceInputStream(new SequenceInputStream(new ByteArrayInputStream(top),
                new ByteArrayInputStream(added)), Files.newInputStream(spool));
    }

    @Override
    public long size() {
        return top.length + added.length + spoolSize;
    }

    private Parsed parsed() {
        Parsed p = parsed;
        if (p == null) {
            try {
                p = parse();
            } catch (IOException e) {
                throw new UncheckedIOException("read " + spool + ": " + e.getMessage(), e);
            }
            parsed = p;
        }
        return p;
    }

    /**
     * The header section as cleanup reads it: fields with their continuation lines, up to the empty line or the
     * first line that is neither a field nor a continuation (the body starts there, without an empty line).
     */
    private Parsed parse() throws IOException {
        List<Header> headers = new ArrayList<>();
        long offset = 0;
        StringBuilder field = null;
        try (InputStream in = new BufferedInputStream(openMessage(), 8192)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream(256);
            while (offset < headerLimit) {
                line.reset();
                int c;
                while ((c = in.read()) >= 0) {
                    line.write(c);
                    if (c == '\n' || line.size() >= headerLimit) {
                        break;
                    }
                }
                if (line.size() == 0) {
                    break; // end of message: no body
                }
                byte[] l = line.toByteArray();
                boolean continuation = l[0] == ' ' || l[0] == '\t';
                if (continuation && field != null) {
                    field.append(text(l));
                    offset += l.length;
                    continue;
                }
                add(headers, field);
                field = null;
                if (!continuation && CleanupStream.isHeaderStart(l)) {
                    field = new StringBuilder(text(l));
                    offset += l.length;
                    continue;
                }
                if (l[0] == '\r' || l[0] == '\n') {
                    offset += l.length; // the empty line belongs to neither part
                }
                break;
            }
        }
        add(headers, field);
        return new Parsed(Collections.unmodifiableList(headers), offset);
    }

    /** A line without its line end (unfolding keeps the rest, white space included). */
    private static String text(byte[] l) {
        int n = l.length;
        if (n > 0 && l[n - 1] == '\n') {
            n--;
        }
        if (n > 0 && l[n - 1] == '\r') {
            n--;
        }
        return new String(l, 0, n, StandardCharsets.UTF_8);
    }

    private static void add(List<Header> headers, StringBuilder field) {
        if (field == null) {
            return;
        }
        int colon = field.indexOf(":");
        String name = field.substring(0, colon).strip();
        String value = field.substring(colon + 1).replaceFirst("^[ \t]+", "");
        try {
            headers.add(new Header(name, value));
        } catch (IllegalArgumentException e) {
            // not a valid field name after all: content, not a header
        }
    }
}
