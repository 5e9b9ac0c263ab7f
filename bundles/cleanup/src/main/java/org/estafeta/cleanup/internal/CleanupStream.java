package org.estafeta.cleanup.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

import org.apache.james.mime4j.MimeException;
import org.apache.james.mime4j.stream.DefaultFieldBuilder;
import org.apache.james.mime4j.stream.RawField;
import org.apache.james.mime4j.util.ByteArrayBuffer;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.InsufficientStorageException;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.slf4j.Logger;

/**
 * One message on its way to the queue: the bytes go to the queue file as they arrive; while in the header section
 * each line is collected into its header field (mime4j's field builder, bounded by {@code header_size_limit})
 * so that Message-ID and Date are seen. At the end of the headers the missing ones are added when configured.
 * Memory is one header field and the writer's fixed buffer, whatever the message size.
 */
final class CleanupStream implements Cleanup.Stream {
    private final QueueStore.Writer writer;
    private final CleanupSettings settings;
    private final Logger log;
    private final Instant arrival;
    private final QueueName target;
    /** The current line while in the header section (bounded). */
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private final DefaultFieldBuilder field;
    private boolean fieldOpen;
    private boolean inHeaders = true;
    private long headerBytes;
    private boolean sawMessageId;
    private boolean sawDate;
    private boolean done;

    CleanupStream(QueueStore.Writer writer, CleanupSettings settings, Logger log, Instant arrival, QueueName target) {
        this.writer = writer;
        this.settings = settings;
        this.log = log;
        this.arrival = arrival;
        this.target = target;
        this.field = new DefaultFieldBuilder(settings.headerSizeLimit());
    }

    String id() {
        return writer.id();
    }

    @Override
    public void write(byte[] data, int offset, int length) throws IOException {
        if (done) {
            throw new IOException(writer.id() + ": message already ended");
        }
        try {
            int end = offset + length;
            while (inHeaders && offset < end) {
                int lf = offset;
                while (lf < end && data[lf] != '\n') {
                    lf++;
                }
                int n = (lf < end ? lf + 1 : end) - offset;
                if (line.size() + n > settings.headerSizeLimit() || headerBytes + n > settings.headerSizeLimit()) {
                    // an over-long header line or section: the rest is body, as Postfix treats it
                    endHeaders();
                    emit(line.toByteArray());
                    line.reset();
                    break;
                }
                line.write(data, offset, n);
                headerBytes += n;
                offset += n;
                if (lf < end) {
                    headerLine(line.toByteArray());
                    line.reset();
                }
            }
            if (offset < end) {
                emit(data, offset, end - offset);
            }
        } catch (IOException e) {
            throw storage(e);
        }
    }

    /** One complete header-section line (with its line end). */
    private void headerLine(byte[] l) throws IOException {
        boolean continuation = l.length > 0 && (l[0] == ' ' || l[0] == '\t');
        if (continuation && fieldOpen) {
            appendToField(l);
            return;
        }
        flushField();
        if (!continuation && isHeaderStart(l)) {
            appendToField(l);
            fieldOpen = true;
            return;
        }
        // the empty line, or a line that is no header: the body starts here
        endHeaders();
        emit(l);
    }

    private void appendToField(byte[] l) throws IOException {
        try {
            field.append(new ByteArrayBuffer(l, l.length, true));
        } catch (MimeException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    private void flushField() throws IOException {
        if (!fieldOpen) {
            return;
        }
        fieldOpen = false;
        var raw = field.getRaw();
        byte[] bytes = raw == null ? new byte[0] : raw.toByteArray();
        try {
            RawField f = field.build();
            if (f != null) {
                seen(f);
            }
        } catch (MimeException e) {
            // not a well-formed field after all: it is still content, passed on as received
        }
        field.reset();
        emit(bytes);
    }

    private void seen(RawField f) {
        String name = f.getName();
        if (name.equalsIgnoreCase("Message-ID")) {
            sawMessageId = true;
            String body = f.getBody() == null ? "" : f.getBody().replaceAll("\\s+", " ").trim();
            log.info("{}: message-id={}", writer.id(), body);
        } else if (name.equalsIgnoreCase("Date")) {
            sawDate = true;
        }
    }

    /** Postfix's is_header(): field-name characters, optional white space, then a colon. */
    static boolean isHeaderStart(byte[] l) {
        int i = 0;
        while (i < l.length && l[i] > ' ' && l[i] < 127 && l[i] != ':') {
            i++;
        }
        if (i == 0) {
            return false;
        }
        while (i < l.length && (l[i] == ' ' || l[i] == '\t')) {
            i++;
        }
        return i < l.length && l[i] == ':';
    }

    private void endHeaders() throws IOException {
        if (!inHeaders) {
            return;
        }
        flushField();
        inHeaders = false;
        if (!sawMessageId) {
            if (settings.addMissingHeaders()) {
                String mid = writer.id() + "@" + settings.myhostname();
                emit(("Message-Id: <" + mid + ">\r\n").getBytes(StandardCharsets.UTF_8));
                log.info("{}: message-id=<{}>", writer.id(), mid);
            } else {
                log.info("{}: message-id=<>", writer.id());
            }
        }
        if (!sawDate && settings.addMissingHeaders()) {
            emit(("Date: " + CleanupService.mailDate(arrival) + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    private void emit(byte[] b) throws IOException {
        emit(b, 0, b.length);
    }

    private void emit(byte[] b, int off, int len) throws IOException {
        if (len > 0) {
            writer.write(b, off, len);
        }
    }

    @Override
    public String commit() throws IOException {
        if (done) {
            throw new IOException(writer.id() + ": message already ended");
        }
        try {
            if (inHeaders) {
                byte[] rest = line.toByteArray();
                line.reset();
                if (rest.length > 0 && isHeaderStart(rest) || rest.length > 0 && fieldOpen && (rest[0] == ' ' || rest[0] == '\t')) {
                    byte[] ended = java.util.Arrays.copyOf(rest, rest.length + 2);
                    ended[rest.length] = '\r';
                    ended[rest.length + 1] = '\n';
                    headerLine(ended);
                    endHeaders();
                } else {
                    endHeaders();
                    emit(rest);
                }
            }
            done = true;
            writer.commit(target);
            return writer.id();
        } catch (IOException e) {
            done = true;
            writer.abort();
            throw storage(e);
        }
    }

    @Override
    public void abort() {
        done = true;
        writer.abort();
    }

    private IOException storage(IOException e) {
        if (e instanceof InsufficientStorageException || !QueueStore.isStorageShortage(e)) {
            return e;
        }
        return new InsufficientStorageException(writer.id() + ": queue file write error: " + e.getMessage(), e);
    }
}
