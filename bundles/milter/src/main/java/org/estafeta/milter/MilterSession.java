package org.estafeta.milter;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

/**
 * The milters of one SMTP session (or one locally submitted message), told about each event in the order Postfix
 * sends them: {@link #connect}, {@link #helo}, then per transaction {@link #mail}, {@link #rcpt}..., {@link #data},
 * {@link #header}..., {@link #endOfHeaders}, {@link #body}..., {@link #endOfMessage}, and {@link #abort} at the end of
 * every transaction (after the reply to the end of DATA, on RSET, or when MAIL or the message was refused), finally
 * {@link #close}.
 *
 * <p>Each event goes to the milters in configuration order and stops at the first one with a final decision
 * ({@link MilterVerdict#isFinal()}), which the method returns; otherwise the verdict is CONTINUE (or ACCEPT once no
 * milter wants more of this message). Milters that declined an event in negotiation only get its macros, and events
 * a milter's protocol version does not define are never sent. Message content is streamed: headers and body chunks
 * go to every milter as they arrive (not milter by milter over the whole message, as Postfix's cleanup does), body
 * bytes are buffered only up to one 65535-byte chunk per milter.
 *
 * <p>Threading and blocking: not thread-safe; one worker thread at a time. Every method blocks on the milters'
 * replies, each bounded by {@code milter_command_timeout} (connect to data) or {@code milter_content_timeout}
 * (header to end of message). Never call it on an event loop. Errors are never thrown for a milter's failure: the
 * milter's default action applies (see {@link DefaultAction}).
 */
public final class MilterSession implements AutoCloseable {
    /** The client's address family in SMFIC_CONNECT. */
    public enum AddressFamily {
        INET, INET6, UNIX, UNKNOWN
    }

    private final List<MilterConnection> milters;
    private final MilterSettings settings;
    private final MilterMacroSource macros;

    MilterSession(List<MilterConnection> milters, MilterSettings settings, MilterMacroSource macros) {
        this.milters = milters;
        this.settings = settings;
        this.macros = Objects.requireNonNull(macros, "macros");
    }

    /** The milters' names (addresses) in order. */
    public List<String> milterNames() {
        return milters.stream().map(MilterConnection::name).toList();
    }

    /**
     * Whether some milter asked (SMFIP_RCPT_REJ) to see recipients that the MTA rejected; Postfix then reports those
     * too, with {@code {rcpt_mailer}} set to {@code error}.
     */
    public boolean wantsRejectedRecipients() {
        return milters.stream().anyMatch(MilterConnection::wantsRejectedRecipients);
    }

    /**
     * SMFIC_CONNECT. {@code hostname} is the verified client name or {@code unknown} (then {@code [address]} is sent,
     * as Sendmail does); {@code port} is the client's port (0 when unknown).
     */
    public MilterVerdict connect(String hostname, AddressFamily family, String address, int port) {
        return each(m -> m.connect(hostname, family, address, port, values(m.macros.connect())));
    }

    /** SMFIC_HELO with the HELO/EHLO argument. */
    public MilterVerdict helo(String name) {
        return each(m -> m.helo(name, values(m.macros.helo())));
    }

    /**
     * SMFIC_MAIL. {@code sender} is the address ({@code <>} for the null sender; angle brackets are added when
     * missing); {@code esmtpArgs} the MAIL FROM parameters as the client sent them, e.g. {@code SIZE=1000}.
     */
    public MilterVerdict mail(String sender, List<String> esmtpArgs) {
        List<String> argv = argv(sender, esmtpArgs);
        return each(m -> m.mail(argv, values(m.macros.mail())));
    }

    /** SMFIC_RCPT for one recipient; a final verdict rejects this recipient only. */
    public MilterVerdict rcpt(String recipient, List<String> esmtpArgs) {
        List<String> argv = argv(recipient, esmtpArgs);
        return each(m -> m.rcpt(argv, values(m.macros.rcpt())));
    }

    /** SMFIC_DATA (protocol version 4 and later). */
    public MilterVerdict data() {
        return each(m -> m.data(values(m.macros.data())));
    }

    /** SMFIC_UNKNOWN: a command the SMTP server does not recognise (protocol version 3 and later). */
    public MilterVerdict unknownCommand(String commandLine) {
        return each(m -> m.unknown(commandLine, values(m.macros.unknownCommand())));
    }

    /**
     * SMFIC_HEADER for one header of the message as received (the MTA's own Received header excluded, as Postfix
     * hides it). {@code value} is everything after the colon, folded lines joined by CRLF or LF; one leading space
     * is removed unless the milter negotiated SMFIP_HDR_LEADSPC.
     */
    public MilterVerdict header(String name, String value) {
        String v = value.replace("\r\n", "\n");
        return each(m -> m.header(name, v, values(m.macros.endOfHeaders())));
    }

    /** SMFIC_EOH. */
    public MilterVerdict endOfHeaders() {
        return each(m -> m.endOfHeaders(values(m.macros.endOfHeaders())));
    }

    /**
     * Body bytes as they arrive (lines ended by CRLF, dot-stuffing removed), in chunks of any size; they are sent
     * in SMFIC_BODY packets of at most 65535 bytes.
     */
    public MilterVerdict body(byte[] chunk, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, chunk.length);
        return each(m -> m.body(chunk, offset, length, values(m.macros.endOfData())));
    }

    /** {@link #body(byte[], int, int)} for the whole array. */
    public MilterVerdict body(byte[] chunk) {
        return body(chunk, 0, chunk.length);
    }

    /**
     * SMFIC_BODYEOB: flushes the body, then asks each milter in turn for its decision and modifications, stopping at
     * the first final verdict (later milters then never see the end of the message, as in Postfix).
     */
    public MilterResult endOfMessage() {
        List<MilterAction> edits = new ArrayList<>();
        MilterVerdict found = null;
        for (MilterConnection m : milters) {
            if (found != null) {
                m.abort();
                continue;
            }
            MilterVerdict v = m.endOfMessage(values(m.macros.endOfData()), edits);
            if (v != null) {
                found = v;
            }
        }
        return new MilterResult(found != null ? found : MilterVerdict.CONTINUE, edits);
    }

    /** SMFIC_ABORT to every milter in a transaction: the end of a transaction, or RSET. */
    public void abort() {
        milters.forEach(MilterConnection::abort);
    }

    /** SMFIC_QUIT and disconnect. */
    @Override
    public void close() {
        milters.forEach(MilterConnection::close);
    }

    // ---- helpers

    private MilterVerdict each(Function<MilterConnection, MilterVerdict> event) {
        for (MilterConnection m : milters) {
            MilterVerdict v = event.apply(m);
            if (v != null) {
                return v;
            }
        }
        return allDone() ? MilterVerdict.ACCEPT : MilterVerdict.CONTINUE;
    }

    private boolean allDone() {
        return milters.stream().allMatch(MilterConnection::done);
    }

    private static List<String> argv(String address, List<String> esmtpArgs) {
        List<String> argv = new ArrayList<>(1 + esmtpArgs.size());
        argv.add(address.startsWith("<") ? address : "<" + address + ">");
        argv.addAll(esmtpArgs);
        return argv;
    }

    /** name, value, name, value ... for the macros that have a value now (null when none). */
    private List<String> values(List<String> names) {
        if (names.isEmpty()) {
            return null;
        }
        List<String> out = new ArrayList<>();
        for (String n : names) {
            String v = macros.value(n);
            if (v == null) {
                v = builtin(n);
            }
            if (v != null) {
                out.add(n);
                out.add(v);
            }
        }
        return out;
    }

    private String builtin(String name) {
        if ("{daemon_name}".equals(name) && !settings.daemonName().isEmpty()) {
            return settings.daemonName();
        }
        if ("v".equals(name) && !settings.macroV().isEmpty()) {
            return settings.macroV();
        }
        return settings.macroDefaults().get(name);
    }
}
