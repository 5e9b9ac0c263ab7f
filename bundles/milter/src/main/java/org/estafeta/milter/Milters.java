package org.estafeta.milter;

import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: opens a {@link MilterSession} on a list of milters ({@code smtpd_milters} for an SMTP session,
 * {@code non_smtpd_milters} for a message from sendmail/pickup). Stateless and thread-safe.
 */
public final class Milters {
    private static final Logger LOG = LoggerFactory.getLogger("milter");

    private Milters() {
    }

    /** As {@link #open(List, MilterSettings, MilterMacroSource, Logger)} with a logger named {@code milter}. */
    public static MilterSession open(List<MilterSpec> milters, MilterSettings settings, MilterMacroSource macros) {
        return open(milters, settings, macros, LOG);
    }

    /**
     * Connects to each milter in order and negotiates (SMFIC_OPTNEG). Blocks for at most the connect timeout plus
     * the command timeout per milter. Never throws for a milter that is down or misbehaves: it is logged as a
     * warning on {@code log} (Postfix's texts) and answers every event of the session with its default action.
     *
     * @param macros the session's macro values, asked for at each event
     */
    public static MilterSession open(List<MilterSpec> milters, MilterSettings settings, MilterMacroSource macros,
            Logger log) {
        List<MilterConnection> connections = new ArrayList<>(milters.size());
        for (MilterSpec spec : milters) {
            MilterConnection c = new MilterConnection(spec, settings, log);
            c.open();
            connections.add(c);
        }
        return new MilterSession(connections, settings, macros);
    }
}
