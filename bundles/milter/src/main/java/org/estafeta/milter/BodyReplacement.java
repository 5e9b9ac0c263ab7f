package org.estafeta.milter;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A replacement body sent with SMFIR_REPLBODY, kept in memory up to 64 KiB and spooled to a temporary file beyond,
 * so that a large replacement never fills the heap. Content is as the milter sent it (CRLF line ends). Closing it
 * (or the {@link MilterResult} holding it) deletes the file. Not thread-safe; read it on one thread.
 */
public final class BodyReplacement implements AutoCloseable {
    private static final int IN_MEMORY = 64 * 1024;

    private final ByteArrayOutputStream memory = new ByteArrayOutputStream();
    private Path file;
    private OutputStream fileOut;
    private long size;

    BodyReplacement() {
    }

    void append(byte[] data, int off, int len) throws IOException {
        if (file == null && memory.size() + len > IN_MEMORY) {
            file = Files.createTempFile("estafeta-milter-body", ".tmp");
            fileOut = Files.newOutputStream(file);
            memory.writeTo(fileOut);
            memory.reset();
        }
        if (file != null) {
            fileOut.write(data, off, len);
        } else {
            memory.write(data, off, len);
        }
        size += len;
    }

    void finish() throws IOException {
        if (fileOut != null) {
            fileOut.close();
            fileOut = null;
        }
    }

    /** The number of bytes. */
    public long size() {
        return size;
    }

    /** A fresh stream over the content; the caller closes it. */
    public InputStream open() {
        if (file == null) {
            return new ByteArrayInputStream(memory.toByteArray());
        }
        try {
            return Files.newInputStream(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Deletes the spool file, if any. */
    @Override
    public void close() {
        try {
            finish();
            if (file != null) {
                Files.deleteIfExists(file);
            }
        } catch (IOException e) {
            // nothing left to do: the temporary directory's cleanup will take it
        }
    }
}
