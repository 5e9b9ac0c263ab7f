package org.estafeta.cleanup.internal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.api.filter.EventVerdict;
import org.estafeta.api.filter.FilterSession;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.filter.HeaderField;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.message.Reply;

/**
 * header_checks, mime_header_checks, nested_header_checks and body_checks of one message as the first filter of the
 * chain: Postfix's cleanup semantics (header classes, MIME part tracking, {@code body_checks_size_limit} per part,
 * one action per header or body line, nothing checked after REJECT, DISCARD, PASS or REDIRECT) answered as event
 * verdicts. A refusal refuses the message at the end of DATA; IGNORE, REPLACE and PREPEND replace the header or the
 * body chunk; FILTER, REDIRECT and BCC come back at the end of the message as a {@link FilterVerdict.Modify}.
 *
 * <p>Body chunks are split into lines of at most {@link #LINE_LIMIT} bytes as cleanup always did; a line or a MIME
 * part header is decided when it is complete. One that began in an earlier chunk (a part header followed by the
 * chunk's end, a line longer than a chunk, the last line without a line end) can still be refused, held or
 * discarded, but no longer edited: the earlier chunk has gone on. Such an edit is left out with a warning.
 *
 * <p>Since the API has no verdict for both, a HOLD in a chunk that is also edited is answered at the next event (or
 * at the end of the message), and PASS answers {@link EventVerdict.Accept} only when no FILTER, REDIRECT or BCC
 * waits for the end of the message (the chain asks a filter that accepted nothing more); REDIRECT therefore never
 * answers Accept. In both cases the checks end all the same.
 *
 * <p>One instance per message; it does not close {@code checks} (the caller owns them). Threading: not thread-safe,
 * called one event at a time as {@link FilterSession} promises. Blocking: the table lookups may block (their own
 * timeouts apply); a table's temporary failure answers {@code 451 4.3.0}, so nothing passes unchecked.
 */
final class HeaderBodyChecks implements FilterSession {
    /** Postfix's line_length_limit: longer body lines are checked in pieces of this size. */
    static final int LINE_LIMIT = 2048;

    /** What a table's temporary failure answers, as cleanup always did. */
    static final Reply TABLE_FAILURE = new Reply(451, "4.3.0", "Error: queue file write error");

    private static final Pattern BOUNDARY = Pattern.compile(
            "(?i)multipart/.*?;\\s*boundary\\s*=\\s*(?:\"([^\"]+)\"|([^;\\s]+))", Pattern.DOTALL);

    private final ContentChecks checks;
    /** The chain's maillog lines for this message (Postfix's cleanup_act_log() shape, and plain warnings). */
    private final SessionChain.ActionLog log;
    /** The message's queue ID, for the warning of a failed table (Postfix prefixes it). */
    private String queueId = "NOQUEUE";
    /** Whether any check can apply to the body (body_checks, or part and nested headers). */
    private final boolean bodyChecked;

    // ---- decisions
    /** The Reject, Defer or Discard that ended the message, or null. */
    private EventVerdict refusal;
    private boolean refusalAnswered;
    /** PASS or REDIRECT ended the checks (Postfix clears CLEANUP_FLAG_FILTER_ALL). */
    private boolean ended;
    private boolean acceptAnswered;
    /** On hold already (before the checks, or by an earlier HOLD): a HOLD does nothing more. */
    private boolean held;
    /** A HOLD not yet answered (its chunk was answered with Replace), and its text. */
    private boolean holdPending;
    private String holdReason = "";
    /** The last FILTER {@code transport:destination}, or null. */
    private String route;
    /** The REDIRECT address, or null. */
    private String redirect;
    /** The BCC addresses, in the order the checks named them. */
    private final List<String> blindCopies = new ArrayList<>();

    // ---- body scanning: the current line, MIME part boundaries, bytes checked in this part
    /** The top-level Content-Type's boundary, until the body starts. */
    private String primaryBoundary;
    private boolean bodyStarted;
    /** The beginning of a line whose end has not come yet (it began in an earlier chunk). */
    private final ByteArrayOutputStream pendingLine = new ByteArrayOutputStream(256);
    private final ArrayDeque<String> boundaries = new ArrayDeque<>();
    private boolean inPartHeaders;
    /** A part header is being collected: its logical text, where it starts and ends in this chunk (-1: earlier). */
    private boolean partHeaderOpen;
    private final StringBuilder partHeader = new StringBuilder();
    private int partHeaderStart;
    private int partHeaderEnd;
    private String partBoundary;
    /** The part being read is a message/rfc822 attachment: its body starts with the attached message's headers. */
    private boolean partIsMessage;
    /** The header block being read is an attached message's (nested_header_checks), not a MIME part's. */
    private boolean nested;
    private long partBytes;

    // ---- the chunk being answered: its bytes, the new bytes so far (null: unchanged), how far they are copied
    private byte[] chunk;
    private ByteArrayOutputStream edited;
    private int copied;

    /**
     * @param checks the message's check tables (not closed here)
     * @param log where action and warning lines go
     * @param alreadyHeld the message goes to the hold queue anyway: HOLD actions are neither answered nor logged
     */
    HeaderBodyChecks(ContentChecks checks, SessionChain.ActionLog log, boolean alreadyHeld) {
        this.checks = checks;
        this.log = log;
        this.held = alreadyHeld;
        this.bodyChecked = checks.has(ContentChecks.Kind.BODY) || checks.has(ContentChecks.Kind.MIME_HEADER)
                || checks.has(ContentChecks.Kind.NESTED_HEADER);
    }

    /** The boundary parameter of a multipart Content-Type value, or null. */
    static String boundary(String contentType) {
        if (contentType == null) {
            return null;
        }
        Matcher m = BOUNDARY.matcher(contentType);
        return m.find() ? (m.group(1) != null ? m.group(1) : m.group(2)) : null;
    }

    // ------------------------------------------------------------------------------------------ top-level headers

    @Override
    public EventVerdict data(String queueId) {
        this.queueId = queueId;
        return EventVerdict.CONTINUE;
    }

    /**
     * A top-level header: mime_header_checks for {@code Content-*} headers when that list is configured, else
     * header_checks; the text is the header's lines joined with {@code \n}, as Postfix matches it.
     */
    @Override
    public EventVerdict header(HeaderField h) {
        if (h.is("Content-Type")) {
            primaryBoundary = boundary(h.value());
        }
        if (stopped()) {
            return answer(null);
        }
        boolean mime = h.name().regionMatches(true, 0, "Content-", 0, 8)
                && checks.has(ContentChecks.Kind.MIME_HEADER);
        ContentChecks.Kind kind = mime ? ContentChecks.Kind.MIME_HEADER : ContentChecks.Kind.HEADER;
        String text = h.text().replace("\r\n", "\n");
        Edit e = check(kind, text);
        byte[] replacement = null;
        if (e != null) {
            e.logApplied();
            replacement = e.bytes((h.text() + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        return answer(replacement);
    }

    // ------------------------------------------------------------------------------------------ the body

    /**
     * A body chunk: its lines checked by body_checks (within {@code body_checks_size_limit} of each MIME part), the
     * MIME parts' headers by mime_header_checks and an attached message's other headers by nested_header_checks.
     * Answers Replace with the chunk's new bytes when a line or part header of it was edited.
     */
    @Override
    public EventVerdict body(ByteBuffer data) {
        if (stopped() || !bodyChecked) {
            return answer(null);
        }
        startBody();
        ByteBuffer view = data.duplicate();
        chunk = new byte[view.remaining()];
        view.get(chunk);
        edited = null;
        copied = 0;
        try {
            int start = 0;
            for (int i = 0; i < chunk.length && !stopped(); i++) {
                if (chunk[i] == '\n' || pendingLine.size() + (i - start + 1) >= LINE_LIMIT) {
                    if (pendingLine.size() > 0) {
                        pendingLine.write(chunk, start, i - start + 1);
                        byte[] whole = pendingLine.toByteArray();
                        pendingLine.reset();
                        bodyLine(whole, 0, whole.length, -1, i + 1);
                    } else {
                        bodyLine(chunk, start, i - start + 1, start, i + 1);
                    }
                    start = i + 1;
                }
            }
            if (!stopped()) {
                pendingLine.write(chunk, start, chunk.length - start);
            }
            byte[] replacement = null;
            if (edited != null) {
                edited.write(chunk, copied, chunk.length - copied);
                replacement = edited.toByteArray();
            }
            return answer(replacement);
        } finally {
            chunk = null;
            edited = null;
            partHeaderStart = -1; // a part header still open begins in a chunk passed on
        }
    }

    private void startBody() {
        if (!bodyStarted) {
            bodyStarted = true;
            if (primaryBoundary != null) {
                boundaries.push(primaryBoundary);
                primaryBoundary = null;
            }
        }
    }

    /**
     * One body line (or {@link #LINE_LIMIT} piece of one) with its line end: {@code b[off, off + len)}; it stands at
     * {@code [at, end)} in the current chunk, {@code at} -1 when it began in an earlier one (or the body is over).
     */
    private void bodyLine(byte[] b, int off, int len, int at, int end) {
        String text = new String(b, off, len, StandardCharsets.UTF_8);
        if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - (text.endsWith("\r\n") ? 2 : 1));
        }
        if (text.startsWith("--") && !boundaries.isEmpty()) {
            for (String bd : boundaries) {
                if (text.equals("--" + bd) || text.equals("--" + bd + "--")) {
                    flushPartHeader();
                    while (!boundaries.peek().equals(bd)) {
                        boundaries.pop();
                    }
                    nested = false;
                    partIsMessage = false;
                    if (text.endsWith("--") && text.length() == bd.length() + 4) {
                        boundaries.pop();
                        inPartHeaders = false;
                    } else {
                        inPartHeaders = true;
                        partBoundary = null;
                    }
                    partBytes = 0;
                    return;
                }
            }
        }
        if (inPartHeaders) {
            if (text.isEmpty()) {
                flushPartHeader();
                if (partBoundary != null) {
                    boundaries.push(partBoundary);
                    partBoundary = null;
                }
                if (partIsMessage && !nested) {
                    nested = true; // the attached message's own headers follow
                    partIsMessage = false;
                } else {
                    inPartHeaders = false;
                    nested = false;
                }
                return;
            }
            if ((text.charAt(0) == ' ' || text.charAt(0) == '\t') && partHeaderOpen) {
                partHeader.append('\n').append(text);
                partHeaderEnd = end;
                return;
            }
            flushPartHeader();
            partHeaderOpen = true;
            partHeader.append(text);
            partHeaderStart = at;
            partHeaderEnd = end;
            return;
        }
        if (partBytes < checks.bodySizeLimit() && checks.has(ContentChecks.Kind.BODY)) {
            partBytes += len;
            Edit e = check(ContentChecks.Kind.BODY, text);
            if (e != null) {
                edit(e, at, end);
            }
        }
    }

    /** Checks the part header collected so far, if any: a MIME header, or an attached message's nested header. */
    private void flushPartHeader() {
        if (!partHeaderOpen) {
            return;
        }
        partHeaderOpen = false;
        String text = partHeader.toString();
        partHeader.setLength(0);
        boolean mimeHeader = text.regionMatches(true, 0, "Content-", 0, 8);
        if (text.regionMatches(true, 0, "Content-Type:", 0, 13)) {
            partBoundary = boundary(text.substring(13));
            partIsMessage = !nested
                    && text.substring(13).strip().toLowerCase(Locale.ROOT).startsWith("message/rfc822");
        }
        // Postfix's header classes: a MIME part's headers and an attached message's Content-* headers are MIME
        // headers; the attached message's other headers are nested headers
        ContentChecks.Kind kind = nested && !mimeHeader ? ContentChecks.Kind.NESTED_HEADER
                : ContentChecks.Kind.MIME_HEADER;
        if (stopped()) {
            return;
        }
        Edit e = check(kind, text);
        if (e != null) {
            edit(e, partHeaderStart, partHeaderEnd);
        }
    }

    /** Applies an edit to {@code [at, end)} of the current chunk, or warns that it cannot ({@code at} -1). */
    private void edit(Edit e, int at, int end) {
        if (at < 0 || chunk == null) {
            log.warn(e.kind.parameter + " map: " + e.name + " not applied to " + e.subject
                    + " -- it began in an earlier body chunk, already passed on");
            return;
        }
        e.logApplied();
        if (edited == null) {
            edited = new ByteArrayOutputStream(chunk.length + 256);
        }
        edited.write(chunk, copied, at - copied);
        edited.writeBytes(e.bytes(java.util.Arrays.copyOfRange(chunk, at, end)));
        copied = end;
    }

    // ------------------------------------------------------------------------------------------ the end

    /**
     * The end of the message: the last line (without a line end) and a part header still open are checked (no
     * longer editable); then FILTER, REDIRECT and BCC as a Modify, or a refusal or hold decided now. Never reads
     * {@code content}.
     */
    @Override
    public FilterVerdict endOfMessage(Envelope envelope, MessageContent content) {
        if (!stopped() && bodyChecked) {
            partHeaderStart = -1;
            if (pendingLine.size() > 0) {
                byte[] last = pendingLine.toByteArray();
                pendingLine.reset();
                bodyLine(last, 0, last.length, -1, -1);
            }
            flushPartHeader();
        }
        if (refusal instanceof EventVerdict.Reject r) {
            return new FilterVerdict.Reject(r.reply());
        }
        if (refusal instanceof EventVerdict.Defer d) {
            return new FilterVerdict.Defer(d.reply());
        }
        if (refusal instanceof EventVerdict.Discard d) {
            return new FilterVerdict.Discard(d.reason());
        }
        boolean modify = route != null || redirect != null || !blindCopies.isEmpty();
        if (holdPending) {
            holdPending = false;
            if (modify) {
                log.warn("HOLD decided at the end of the message: its FILTER, REDIRECT and BCC actions are not"
                        + " applied");
            }
            return new FilterVerdict.Hold(holdReason);
        }
        if (!modify) {
            return FilterVerdict.accept();
        }
        return new FilterVerdict.Modify(List.of(), List.of(), List.of(), Optional.empty(), List.of(),
                Optional.empty(), Optional.ofNullable(redirect), Optional.ofNullable(route), blindCopies);
    }

    // ------------------------------------------------------------------------------------------ actions

    /** Nothing more is checked: refused, discarded, or PASS or REDIRECT. */
    private boolean stopped() {
        return refusal != null || ended;
    }

    /** The verdict of an event, given the bytes that replace its header or chunk (null: unchanged). */
    private EventVerdict answer(byte[] replacement) {
        if (refusal != null) {
            if (refusalAnswered) {
                return EventVerdict.CONTINUE;
            }
            refusalAnswered = true;
            return refusal;
        }
        if (replacement != null) {
            return new EventVerdict.Replace(replacement); // a HOLD of the same chunk waits for the next event
        }
        if (holdPending) {
            holdPending = false;
            return new EventVerdict.Hold(holdReason);
        }
        if (ended && !acceptAnswered && route == null && redirect == null && blindCopies.isEmpty()) {
            acceptAnswered = true;
            return EventVerdict.ACCEPT;
        }
        return EventVerdict.CONTINUE;
    }

    /** An edit an action asks for: IGNORE, REPLACE or PREPEND of one header or body line. */
    private final class Edit {
        final ContentChecks.Kind kind;
        final String name;
        final String text;
        final String subject;

        Edit(ContentChecks.Kind kind, String name, String text, String subject) {
            this.kind = kind;
            this.name = name;
            this.text = text;
            this.subject = subject;
        }

        /** The bytes that take the place of {@code raw} (the header or line with its line end). */
        byte[] bytes(byte[] raw) {
            if (name.equals("IGNORE")) {
                return new byte[0];
            }
            byte[] line = (text + "\r\n").getBytes(StandardCharsets.UTF_8);
            if (name.equals("REPLACE")) {
                return line;
            }
            byte[] out = java.util.Arrays.copyOf(line, line.length + raw.length);
            System.arraycopy(raw, 0, out, line.length, raw.length);
            return out;
        }

        /** Logs the edit as done (IGNORE is not logged, as in Postfix). */
        void logApplied() {
            if (!name.equals("IGNORE")) {
                log.action(name.toLowerCase(Locale.ROOT), subject, text);
            }
        }
    }

    /**
     * Runs one check and records its action (refusal, hold, FILTER, REDIRECT, BCC, PASS, log lines); returns the
     * edit it asks for, or null. Does nothing when the kind has no tables or the checks have stopped.
     */
    private Edit check(ContentChecks.Kind kind, String text) {
        if (stopped() || !checks.has(kind)) {
            return null;
        }
        ContentChecks.Verdict v = checks.check(kind, text);
        if (v.defer().isPresent()) {
            log.warn(queueId + ": " + v.defer().get());
            refusal = new EventVerdict.Defer(TABLE_FAILURE);
            return null;
        }
        if (v.action().isEmpty()) {
            return null;
        }
        ContentChecks.Action a = v.action().get();
        String subject = subject(kind, text);
        switch (a.name()) {
            case "REJECT" -> refuse(a, subject);
            case "WARN" -> log.action("warning", subject, a.text());
            case "INFO" -> log.action("info", subject, a.text());
            case "HOLD" -> {
                // as Postfix: logged once, and not for a message already on hold
                if (!held) {
                    held = true;
                    holdPending = true;
                    holdReason = a.text();
                    log.action("hold", subject, a.text());
                }
            }
            case "DISCARD" -> {
                refusal = new EventVerdict.Discard(a.text());
                log.action("discard", subject, a.text());
            }
            case "IGNORE", "REPLACE", "PREPEND" -> {
                return new Edit(kind, a.name(), a.text(), subject);
            }
            case "DUNNO", "OK" -> {
                // no action
            }
            case "PASS" -> {
                // Postfix 3.2+: no more header/body checks for this message
                log.action("pass", subject, a.text());
                ended = true;
            }
            case "FILTER" -> {
                if (a.text().isEmpty()) {
                    log.warn("missing FILTER command argument in " + kind.parameter + " map");
                } else if (a.text().indexOf(':') < 0) {
                    log.warn("bad FILTER command " + a.text() + " in " + kind.parameter
                            + " -- need transport:destination");
                } else {
                    route = a.text(); // the last one wins
                    log.action("filter", subject, a.text());
                }
            }
            case "REDIRECT" -> {
                if (a.text().indexOf('@') < 0) {
                    log.warn("bad REDIRECT target \"" + a.text() + "\" in " + kind.parameter
                            + " map -- need user@domain");
                } else {
                    redirect = a.text(); // it ends the checks
                    log.action("redirect", subject, a.text());
                    ended = true;
                }
            }
            case "BCC" -> {
                if (a.text().indexOf('@') < 0) {
                    log.warn("bad BCC address \"" + a.text() + "\" in " + kind.parameter
                            + " map -- need user@domain");
                } else {
                    blindCopies.add(a.text());
                    log.action("bcc", subject, a.text());
                }
            }
            default -> {
                if (a.name().matches("[45]\\d\\d")) {
                    refuse(a, subject);
                } else {
                    log.warn("unknown command in " + kind.parameter + " map: " + a.name());
                }
            }
        }
        return null;
    }

    /** REJECT or a numeric action: Reject for 5xx, Defer for 4xx, logged as Postfix's {@code reject:}. */
    private void refuse(ContentChecks.Action a, String subject) {
        Reply r = a.rejectReply();
        refusal = r.isPermanent() ? new EventVerdict.Reject(r) : new EventVerdict.Defer(r);
        log.action("reject", subject, r.enhancedStatus() + " " + r.text());
    }

    /** {@code header TEXT} or {@code body TEXT}: line breaks and tabs as spaces, at most 200 characters of text. */
    static String subject(ContentChecks.Kind kind, String text) {
        String shown = text.replace('\n', ' ').replace('\t', ' ');
        return kind.what + ' ' + (shown.length() > 200 ? shown.substring(0, 200) : shown);
    }
}
