package org.estafeta.master.daemon;

/** A running instance of a {@link Daemon} for one master.cf entry. */
public interface DaemonInstance {
    /**
     * Stops accepting new work and releases listeners. Work in flight (an SMTP session in the middle of DATA)
     * may finish on its own; this call waits for it at most a short, fixed time.
     */
    void stop();

    /** One line for {@code estafeta status}, for example {@code smtpd listening on 127.0.0.1:2525}. */
    String describe();
}
