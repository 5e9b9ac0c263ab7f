package org.estafeta.milter;

import java.util.Objects;

/**
 * What the milters answered to one event, in Postfix's terms: go on, or a final decision for the connection, the
 * message or (after RCPT) the recipient.
 *
 * <ul>
 * <li>{@link Action#CONTINUE}: go on; no milter objected.</li>
 * <li>{@link Action#ACCEPT}: go on; every milter has accepted (for this message, or after CONNECT/HELO for the
 *     whole connection) and wants no further events, so the caller may skip streaming the content.</li>
 * <li>{@link Action#REJECT} / {@link Action#TEMPFAIL}: answer the SMTP client with {@link #reply()} (a complete
 *     reply, {@code 5xx} / {@code 4xx}, lines separated by CRLF when the milter sent a multi-line reply).</li>
 * <li>{@link Action#DISCARD}: accept the message and silently drop it (never after CONNECT/HELO).</li>
 * <li>{@link Action#QUARANTINE}: accept the message and put it on hold; {@link #reply()} is the reason.</li>
 * <li>{@link Action#SHUTDOWN}: the milter asked to close the SMTP connection (SMFIR_SHUTDOWN); Postfix answers
 *     {@code 421 4.7.0 <myhostname> Server closing connection}; {@link #reply()} holds that text without the host.</li>
 * </ul>
 * A decision after CONNECT or HELO (or from a milter that failed with a non-accept default action) is persistent:
 * every later event of the session returns it again, as Postfix does.
 *
 * @param action the decision
 * @param reply the SMTP reply (REJECT, TEMPFAIL, SHUTDOWN) or the hold reason (QUARANTINE); empty otherwise
 * @param milter the milter that decided, as named in the configuration; empty for CONTINUE and ACCEPT
 */
public record MilterVerdict(Action action, String reply, String milter) {
    /** The kinds of decision. */
    public enum Action {
        CONTINUE, ACCEPT, REJECT, TEMPFAIL, DISCARD, QUARANTINE, SHUTDOWN
    }

    public static final MilterVerdict CONTINUE = new MilterVerdict(Action.CONTINUE, "", "");
    public static final MilterVerdict ACCEPT = new MilterVerdict(Action.ACCEPT, "", "");

    public MilterVerdict {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(reply, "reply");
        Objects.requireNonNull(milter, "milter");
        if (action == Action.REJECT && !reply.startsWith("5") || action == Action.TEMPFAIL && !reply.startsWith("4")) {
            throw new IllegalArgumentException(action + " with reply " + reply);
        }
    }

    /** A REJECT or TEMPFAIL for {@code reply}, by its first digit. */
    static MilterVerdict reply(String reply, String milter) {
        return new MilterVerdict(reply.startsWith("5") ? Action.REJECT : Action.TEMPFAIL, reply, milter);
    }

    /** Whether this ends the event for the session (anything but CONTINUE and ACCEPT). */
    public boolean isFinal() {
        return action != Action.CONTINUE && action != Action.ACCEPT;
    }
}
