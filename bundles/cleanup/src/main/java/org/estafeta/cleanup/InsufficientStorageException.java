package org.estafeta.cleanup;

import java.io.IOException;

/**
 * The queue file system is full or cannot be written (disk full, quota, read-only). smtpd answers
 * {@code 452 4.3.1 Insufficient system storage}; nothing was queued.
 */
public class InsufficientStorageException extends IOException {
    private static final long serialVersionUID = 1L;

    public InsufficientStorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
