package org.estafeta.qmgr.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.message.Header;
import org.estafeta.api.message.MessageContent;
import org.estafeta.queue.QueueStore;

/**
 * A queued message as transports and filters see it: the content is streamed from the queue file at each
 * {@link #openMessage()}; the top-level headers are read once, on first use, from the start of the file (at most
 * {@link #HEADER_LIMIT} bytes, as cleanup's {@code header_size_limit} bounds them).
 */
final class QueuedContent implements MessageContent {
    static final int HEADER_LIMIT = 1 << 20;

    private final QueueStore.QueuedMessage message;
    private volatile List<Header> headers;

    QueuedContent(QueueStore.QueuedMessage message) {
        this.message = message;
    }

    @Override
    public List<Header> headers() {
        List<Header> h = headers;
        if (h == null) {
            try (InputStream in = message.content()) {
                h = parseHeaders(in);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(message.id() + ": read headers: " + e.getMessage(), e);
            }
            headers = h;
        }
        return h;
    }

    /** The header block up to the first empty line, unfolded; stops at {@link #HEADER_LIMIT} bytes. */
    static List<Header> parseHeaders(InputStream in) throws IOException {
        List<Header> out = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        StringBuilder current = null;
        int read = 0;
        int c;
        while (read < HEADER_LIMIT && (c = in.read()) >= 0) {
            read++;
            if (c != '\n') {
                if (c != '\r') {
                    line.write(c);
                }
                continue;
            }
            String l = line.toString(StandardCharsets.UTF_8);
            line.reset();
            if (l.isEmpty()) {
                break;
            }
            if ((l.charAt(0) == ' ' || l.charAt(0) == '\t') && current != null) {
                current.append(l);
                continue;
            }
            add(out, current);
            current = new StringBuilder(l);
        }
        add(out, current);
        return List.copyOf(out);
    }

    private static void add(List<Header> out, StringBuilder field) {
        if (field == null) {
            return;
        }
        String f = field.toString();
        int colon = f.indexOf(':');
        if (colon <= 0) {
            return; // not a header field (the body started without an empty line)
        }
        out.add(new Header(f.substring(0, colon).trim(), f.substring(colon + 1).trim()));
    }

    @Override
    public InputStream openBody() throws IOException {
        InputStream in = message.content();
        int lineLength = 0; // characters other than CR in the current line
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                if (lineLength == 0) {
                    return in; // the empty line that ends the headers
                }
                lineLength = 0;
            } else if (c != '\r') {
                lineLength++;
            }
        }
        return in;
    }

    @Override
    public InputStream openMessage() throws IOException {
        return message.content();
    }

    @Override
    public long size() {
        return message.contentLength();
    }
}
