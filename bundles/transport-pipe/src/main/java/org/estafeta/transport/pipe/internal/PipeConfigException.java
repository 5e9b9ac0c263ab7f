package org.estafeta.transport.pipe.internal;

/** A master.cf entry that pipe cannot run as written; the message is Postfix's wording of the problem. */
final class PipeConfigException extends Exception {
    private static final long serialVersionUID = 1L;

    PipeConfigException(String message) {
        super(message);
    }
}
