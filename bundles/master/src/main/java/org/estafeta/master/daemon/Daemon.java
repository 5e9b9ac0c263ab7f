package org.estafeta.master.daemon;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.MasterEntry;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A program that master.cf's command column can name. Register it as an OSGi service with {@value #COMMAND}
 * set to the command name ({@code smtpd}). The master bundle calls {@link #start} once per matching entry,
 * and again with a new snapshot after a reload changed the entry or main.cf.
 */
@ConsumerType
public interface Daemon {
    /** Service property: the master.cf command this daemon implements. */
    String COMMAND = "estafeta.daemon";

    /**
     * Starts one instance for {@code entry}. {@code config} is the entry's own snapshot: main.cf with the
     * entry's {@code -o} overrides applied. Returns once the instance is serving (an inet listener is bound);
     * throws with a message naming the entry and the cause if it cannot (address in use, bad value).
     */
    DaemonInstance start(MasterEntry entry, ConfigSnapshot config) throws Exception;
}
