package org.estafeta.cleanup.internal;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
 * Memory is one header field and the writer's fixed buffer, whatever the message size. With content filters the
 * bytes go to a {@link Spool} instead; at commit the filters read them there and the spool is copied into the queue
 * file after the headers they added.
 */
final class CleanupStream implements Cleanup.Stream {
    private final QueueStore.Writer writer;
    private final CleanupSettings settings;
    private final Logger log;
    private final Instant arrival;
    private QueueName target;
    /** header/body checks of this message, or null when none is configured. */
    private final ContentChecks checks;
    /** header address rewriting (canonical maps, masquerading) of this message, or null. */
    private final AddressRewriter rewriter;
    private final org.estafeta.cleanup.Submission submission;
    /** The first REJECT (or numeric action) of a check: the reply at the end of DATA. */
    private org.estafeta.api.message.Reply rejected;
    /** A check's table failed: the message is refused with 451 4.3.0 and the reason is logged. */
    private String deferred;
    private boolean discarded;
    // ---- body scanning (only with checks): the current line, MIME part boundaries, bytes checked in this part
    private final ByteArrayOutputStream bodyLine = new ByteArrayOutputStream(256);
    private final java.util.ArrayDeque<String> boundaries = new java.util.ArrayDeque<>();
    private String primaryBoundary;
    private boolean inPartHeaders;
    private final List<byte[]> partHeaderRaw = new ArrayList<>();
    private final StringBuilder partHeader = new StringBuilder();
    private String partBoundary;
    /** The part being read is a message/rfc822 attachment: its body starts with the attached message's headers. */
    private boolean partIsMessage;
    /** The header block being read is an attached message's (nested_header_checks), not a MIME part's. */
    private boolean nested;
    private long partBytes;
    /** The current line while in the header section (bounded). */
    private final ByteArrayOutputStream line = new ByteArrayOutputStream(256);
    private final DefaultFieldBuilder field;
    private boolean fieldOpen;
    private boolean inHeaders = true;
    private long headerBytes;
    private boolean sawMessageId;
    private boolean sawDate;
    private boolean sawFrom;
    private boolean done;
    /** The content filters of this message, or null when none is configured. */
    private final Filtering filtering;
    // ---- header/body checks' decisions for the extracted segment (written after the content at commit)
    /** The last FILTER {@code transport:destination}, or null. */
    private String filterTo;
    /** The last REDIRECT address, or null. */
    private String redirectTo;
    /** The BCC addresses, in the order the checks named them. */
    private final List<String> blindCopies = new ArrayList<>();
    /** A REDIRECT or PASS ended the checks of this message (Postfix clears CLEANUP_FLAG_FILTER_ALL). */
    private boolean checksEnded;
    /** How BCC addresses become recipients (rewritten, expanded); null: taken as they are. */
    private BlindCopies blindCopyRecipients;

    /**
     * Makes the recipients of header/body checks' BCC actions at commit (cleanup_addr_bcc()): address rewriting as
     * for any recipient, {@code NOTIFY=NEVER}. May block on table lookups; an IOException defers the message.
     */
    @FunctionalInterface
    interface BlindCopies {
        List<org.estafeta.queue.Envelope.Recipient> recipients(List<String> addresses) throws IOException;
    }

    /**
     * What a message with content filters needs: the chain, the envelope and context the filters get, the lines
     * cleanup wrote on top of the queue file (they are part of what filters see), and the spool the rest goes to
     * until the filters have spoken.
     */
    record Filtering(FilterChain chain, org.estafeta.api.message.Envelope envelope,
            org.estafeta.api.plugin.PluginContext context, byte[] top, Spool spool) {
    }

    CleanupStream(QueueStore.Writer writer, CleanupSettings settings, Logger log, Instant arrival, QueueName target) {
        this(writer, settings, log, arrival, target, null, null, null, null);
    }

    /**
     * @param checks header/body checks, or null
     * @param rewriter header address rewriting, or null when headers are not rewritten; closed with the stream
     */
    CleanupStream(QueueStore.Writer writer, CleanupSettings settings, Logger log, Instant arrival, QueueName target,
            ContentChecks checks, org.estafeta.cleanup.Submission submission, AddressRewriter rewriter) {
        this(writer, settings, log, arrival, target, checks, submission, rewriter, null);
    }

    /**
     * @param filtering the content filters, or null; the message goes to its spool until commit, which deletes it
     */
    CleanupStream(QueueStore.Writer writer, CleanupSettings settings, Logger log, Instant arrival, QueueName target,
            ContentChecks checks, org.estafeta.cleanup.Submission submission, AddressRewriter rewriter,
            Filtering filtering) {
        this.filtering = filtering;
        this.checks = checks;
        this.rewriter = rewriter;
        this.submission = submission;
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

    /** Sets how BCC actions' addresses become recipients (before the first write). */
    void blindCopies(BlindCopies b) {
        this.blindCopyRecipients = b;
    }

    /**
     * The records the checks decided, for the queue file's extracted segment: FILTER, then REDIRECT (the last of
     * each), then the BCC recipients.
     */
    private org.estafeta.queue.Envelope.Extracted extracted() throws IOException {
        List<org.estafeta.queue.Envelope.Action> actions = new ArrayList<>();
        if (filterTo != null) {
            actions.add(new org.estafeta.queue.Envelope.Action("filter", filterTo));
        }
        if (redirectTo != null) {
            actions.add(new org.estafeta.queue.Envelope.Action("redirect", redirectTo));
        }
        List<org.estafeta.queue.Envelope.Recipient> rcpts = List.of();
        if (!blindCopies.isEmpty()) {
            if (blindCopyRecipients != null) {
                rcpts = blindCopyRecipients.recipients(blindCopies);
            } else {
                rcpts = blindCopies.stream().distinct().map(a -> new org.estafeta.queue.Envelope.Recipient(a,
                        List.of("NEVER"), java.util.Optional.empty(), org.estafeta.queue.Envelope.Status.PENDING))
                        .toList();
            }
        }
        return new org.estafeta.queue.Envelope.Extracted(actions, rcpts);
    }

    /** Accept and acknowledge the message but never queue it (DISCARD). */
    void discard() {
        discarded = true;
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
                    byte[] rest = line.toByteArray();
                    line.reset();
                    body(rest, 0, rest.length);
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
                body(data, offset, end - offset);
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
        if (l.length > 0 && (l[0] == '\r' || l[0] == '\n')) {
            emit(l); // the empty line itself is no body text
        } else {
            body(l, 0, l.length);
        }
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
        byte[] original = bytes;
        RawField f = null;
        try {
            f = field.build();
            if (f != null) {
                seen(f);
            }
        } catch (MimeException e) {
            // not a well-formed field after all: it is still content, passed on as received
        }
        field.reset();
        if (checks != null && f != null) {
            String name = f.getName();
            boolean mime = name.regionMatches(true, 0, "Content-", 0, 8) && checks.has(ContentChecks.Kind.MIME_HEADER);
            if (name.equalsIgnoreCase("Content-Type")) {
                primaryBoundary = boundary(f.getBody());
            }
            bytes = checked(mime ? ContentChecks.Kind.MIME_HEADER : ContentChecks.Kind.HEADER, logical(bytes), bytes);
        }
        if (rewriter != null && f != null && deferred == null && bytes == original) {
            // as Postfix: a header that header_checks left alone has its addresses rewritten after the checks
            try {
                bytes = HeaderAddresses.rewrite(f.getName(), bytes, rewriter::header);
            } catch (IOException e) {
                deferred = e.getMessage();
                log.warn("{}: {} -- message not accepted, try again later", writer.id(), deferred);
            }
        }
        emit(bytes);
    }

    /** A header's text as header_checks sees it: its lines joined with {@code \n}, without the final line end. */
    private static String logical(byte[] raw) {
        String s = new String(raw, StandardCharsets.UTF_8).replace("\r\n", "\n");
        return s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
    }

    private static final java.util.regex.Pattern BOUNDARY =
            java.util.regex.Pattern.compile("(?i)multipart/.*?;\\s*boundary\\s*=\\s*(?:\"([^\"]+)\"|([^;\\s]+))", java.util.regex.Pattern.DOTALL);

    /** The boundary parameter of a multipart Content-Type, or null. */
    static String boundary(String contentType) {
        if (contentType == null) {
            return null;
        }
        java.util.regex.Matcher m = BOUNDARY.matcher(contentType);
        return m.find() ? (m.group(1) != null ? m.group(1) : m.group(2)) : null;
    }

    // ------------------------------------------------------------------ body_checks and MIME part headers

    /** Body bytes: passed through, or (with checks) split into lines and checked. */
    private void body(byte[] data, int off, int len) throws IOException {
        if (checks == null) {
            emit(data, off, len);
            return;
        }
        if (primaryBoundary != null) {
            boundaries.push(primaryBoundary);
            primaryBoundary = null;
        }
        int end = off + len;
        int start = off;
        for (int i = off; i < end; i++) {
            if (data[i] == '\n' || bodyLine.size() + (i - start + 1) >= LINE_LIMIT) {
                bodyLine.write(data, start, i - start + 1);
                start = i + 1;
                bodyLine(bodyLine.toByteArray());
                bodyLine.reset();
            }
        }
        bodyLine.write(data, start, end - start);
    }

    /** Postfix's line_length_limit: longer body lines are checked in pieces of this size. */
    static final int LINE_LIMIT = 2048;

    private void bodyLine(byte[] raw) throws IOException {
        String text = new String(raw, StandardCharsets.UTF_8);
        if (text.endsWith("\n")) {
            text = text.substring(0, text.length() - (text.endsWith("\r\n") ? 2 : 1));
        }
        if (text.startsWith("--") && !boundaries.isEmpty()) {
            for (String b : boundaries) {
                if (text.equals("--" + b) || text.equals("--" + b + "--")) {
                    flushPartHeader();
                    while (!boundaries.peek().equals(b)) {
                        boundaries.pop();
                    }
                    nested = false;
                    partIsMessage = false;
                    if (text.endsWith("--") && text.length() == b.length() + 4) {
                        boundaries.pop();
                        inPartHeaders = false;
                    } else {
                        inPartHeaders = true;
                        partBoundary = null;
                    }
                    partBytes = 0;
                    emit(raw);
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
                emit(raw);
                return;
            }
            if ((text.charAt(0) == ' ' || text.charAt(0) == '\t') && !partHeaderRaw.isEmpty()) {
                partHeaderRaw.add(raw);
                partHeader.append('\n').append(text);
                return;
            }
            flushPartHeader();
            partHeaderRaw.add(raw);
            partHeader.append(text);
            return;
        }
        if (partBytes < checks.bodySizeLimit() && checks.has(ContentChecks.Kind.BODY)) {
            partBytes += raw.length;
            emit(checked(ContentChecks.Kind.BODY, text, raw));
            return;
        }
        emit(raw);
    }

    private void flushPartHeader() throws IOException {
        if (partHeaderRaw.isEmpty()) {
            return;
        }
        java.io.ByteArrayOutputStream all = new java.io.ByteArrayOutputStream();
        for (byte[] b : partHeaderRaw) {
            all.write(b);
        }
        String text = partHeader.toString();
        partHeaderRaw.clear();
        partHeader.setLength(0);
        boolean mimeHeader = text.regionMatches(true, 0, "Content-", 0, 8);
        if (text.regionMatches(true, 0, "Content-Type:", 0, 13)) {
            partBoundary = boundary(text.substring(13));
            partIsMessage = !nested && text.substring(13).strip().toLowerCase(Locale.ROOT).startsWith("message/rfc822");
        }
        // Postfix's header classes: a MIME part's headers and an attached message's Content-* headers are MIME
        // headers; the attached message's other headers are nested headers
        ContentChecks.Kind kind = nested && !mimeHeader ? ContentChecks.Kind.NESTED_HEADER : ContentChecks.Kind.MIME_HEADER;
        emit(checked(kind, text, all.toByteArray()));
    }

    /**
     * Runs one check and applies its action; returns the bytes to write in place of {@code raw} (the same array
     * when nothing changes). After a REJECT or DISCARD nothing more is checked, as in Postfix.
     */
    private byte[] checked(ContentChecks.Kind kind, String text, byte[] raw) {
        if (rejected != null || discarded || deferred != null || checksEnded || !checks.has(kind)) {
            return raw;
        }
        ContentChecks.Verdict v = checks.check(kind, text);
        if (v.defer().isPresent()) {
            deferred = v.defer().get();
            log.warn("{}: {}", writer.id(), deferred);
            return raw;
        }
        if (v.action().isEmpty()) {
            return raw;
        }
        ContentChecks.Action a = v.action().get();
        String eol = "\r\n";
        switch (a.name()) {
            case "REJECT" -> {
                rejected = a.rejectReply();
                logAction("reject", kind, text, rejected.enhancedStatus() + " " + rejected.text());
            }
            case "WARN" -> logAction("warning", kind, text, a.text());
            case "INFO" -> logAction("info", kind, text, a.text());
            case "HOLD" -> {
                // as Postfix: logged once, and not for a message already on hold
                if (target != QueueName.HOLD) {
                    target = QueueName.HOLD;
                    logAction("hold", kind, text, a.text());
                }
            }
            case "DISCARD" -> {
                discarded = true;
                logAction("discard", kind, text, a.text());
            }
            case "IGNORE" -> {
                return new byte[0];
            }
            case "REPLACE" -> {
                logAction("replace", kind, text, a.text());
                return (a.text() + eol).getBytes(StandardCharsets.UTF_8);
            }
            case "PREPEND" -> {
                logAction("prepend", kind, text, a.text());
                byte[] p = (a.text() + eol).getBytes(StandardCharsets.UTF_8);
                byte[] out = java.util.Arrays.copyOf(p, p.length + raw.length);
                System.arraycopy(raw, 0, out, p.length, raw.length);
                return out;
            }
            case "DUNNO", "OK" -> {
                // no action
            }
            case "PASS" -> {
                // Postfix 3.2+: no more header/body checks for this message
                logAction("pass", kind, text, a.text());
                checksEnded = true;
            }
            case "FILTER" -> {
                if (a.text().isEmpty()) {
                    log.warn("missing FILTER command argument in {} map", kind.parameter);
                } else if (a.text().indexOf(':') < 0) {
                    log.warn("bad FILTER command {} in {} -- need transport:destination", a.text(), kind.parameter);
                } else {
                    filterTo = a.text(); // the last one wins
                    logAction("filter", kind, text, a.text());
                }
            }
            case "REDIRECT" -> {
                if (a.text().indexOf('@') < 0) {
                    log.warn("bad REDIRECT target \"{}\" in {} map -- need user@domain", a.text(), kind.parameter);
                } else {
                    redirectTo = a.text(); // the last one wins; it ends the checks
                    logAction("redirect", kind, text, a.text());
                    checksEnded = true;
                }
            }
            case "BCC" -> {
                if (a.text().indexOf('@') < 0) {
                    log.warn("bad BCC address \"{}\" in {} map -- need user@domain", a.text(), kind.parameter);
                } else {
                    blindCopies.add(a.text());
                    logAction("bcc", kind, text, a.text());
                }
            }
            default -> {
                if (a.name().matches("[45]\\d\\d")) {
                    rejected = a.rejectReply();
                    logAction("reject", kind, text, rejected.enhancedStatus() + " " + rejected.text());
                } else {
                    log.warn("unknown command in {} map: {}", kind.parameter, a.name());
                }
            }
        }
        return raw;
    }

    /**
     * Postfix's cleanup_act_log(): {@code ID: reject: header Subject: x from host[addr]; from=<s> to=<r>
     * proto=ESMTP helo=<h>: text}.
     */
    private void logAction(String verb, ContentChecks.Kind kind, String text, String optional) {
        String shown = text.replace('\n', ' ').replace('\t', ' ');
        logAction(verb, kind.what + ' ' + (shown.length() > 200 ? shown.substring(0, 200) : shown), optional);
    }

    /** The same line for any subject ({@code header TEXT}, {@code filter NAME (BUNDLE VERSION)}). */
    private void logAction(String verb, String subject, String optional) {
        StringBuilder sb = new StringBuilder();
        sb.append(writer.id()).append(": ").append(verb).append(": ").append(subject);
        if (submission != null) {
            var c = submission.client();
            sb.append(" from ").append(c.hostname()).append('[').append(c.address()).append("];");
            sb.append(" from=<").append(submission.sender()).append('>');
            if (!submission.recipients().isEmpty()) {
                // Postfix's state->recip: the last recipient cleanup received
                sb.append(" to=<").append(submission.recipients().get(submission.recipients().size() - 1).address())
                        .append('>');
            }
            sb.append(" proto=").append(submission.protocol()).append(" helo=<").append(c.helo()).append('>');
        }
        if (optional != null && !optional.isEmpty()) {
            sb.append(": ").append(optional);
        }
        if (verb.equals("warning")) {
            log.warn("{}", sb.toString().replaceFirst(": warning: ", ": "));
        } else {
            log.info("{}", sb);
        }
    }

    private void seen(RawField f) {
        String name = f.getName();
        if (name.equalsIgnoreCase("Message-ID")) {
            sawMessageId = true;
            String body = f.getBody() == null ? "" : f.getBody().replaceAll("\\s+", " ").trim();
            log.info("{}: message-id={}", writer.id(), body);
        } else if (name.equalsIgnoreCase("Date")) {
            sawDate = true;
        } else if (name.equalsIgnoreCase("From")) {
            sawFrom = true;
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
        // Postfix's cleanup adds them to local mail whatever always_add_missing_headers says
        var local = submission == null ? java.util.Optional.<org.estafeta.cleanup.Submission.Local>empty()
                : submission.local();
        boolean add = settings.addMissingHeaders() || local.isPresent();
        if (!sawMessageId) {
            if (add) {
                String mid = writer.id() + "@" + settings.myhostname();
                emit(("Message-Id: <" + mid + ">\r\n").getBytes(StandardCharsets.UTF_8));
                log.info("{}: message-id=<{}>", writer.id(), mid);
            } else {
                log.info("{}: message-id=<>", writer.id());
            }
        }
        if (!sawDate && add) {
            emit(("Date: " + CleanupService.mailDate(arrival) + "\r\n").getBytes(StandardCharsets.UTF_8));
        }
        if (!sawFrom && local.isPresent()) {
            emit(("From: " + fromHeader(submission.sender(), local.get().fullName()) + "\r\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * The value of the {@code From:} header cleanup adds to local mail (Postfix's hfrom_format = standard):
     * {@code Full Name <sender>}, {@code sender} without a full name, {@code MAILER-DAEMON} for the null sender.
     * A full name with specials becomes a quoted string, one with non-ASCII text an RFC 2047 encoded word.
     */
    static String fromHeader(String sender, String fullName) {
        if (sender.isEmpty()) {
            return "MAILER-DAEMON";
        }
        String name = fullName.replaceAll("[\\x00-\\x1f\\x7f\\s]+", " ").strip();
        if (name.isEmpty()) {
            return sender;
        }
        String phrase;
        if (!name.chars().allMatch(c -> c < 128)) {
            phrase = "=?UTF-8?B?" + java.util.Base64.getEncoder().encodeToString(name.getBytes(StandardCharsets.UTF_8))
                    + "?=";
        } else if (name.matches("[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+")) {
            phrase = name;
        } else {
            phrase = "\"" + name.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
        }
        return phrase + " <" + sender + ">";
    }

    private void emit(byte[] b) throws IOException {
        emit(b, 0, b.length);
    }

    private void emit(byte[] b, int off, int len) throws IOException {
        if (len > 0) {
            if (filtering != null) {
                filtering.spool().write(b, off, len);
            } else {
                writer.write(b, off, len);
            }
        }
    }

    @Override
    public String commit() throws IOException, Cleanup.Rejected {
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
            if (bodyLine.size() > 0) {
                byte[] last = bodyLine.toByteArray();
                bodyLine.reset();
                bodyLine(last);
            }
            flushPartHeader();
            done = true;
            closeTables();
            if (deferred != null) {
                writer.abort();
                throw new Cleanup.Rejected(new org.estafeta.api.message.Reply(451, "4.3.0",
                        "Error: queue file write error"));
            }
            if (rejected != null) {
                writer.abort();
                throw new Cleanup.Rejected(rejected);
            }
            if (discarded) {
                writer.abort();
                return writer.id();
            }
            org.estafeta.queue.Envelope.Extracted late;
            try {
                late = extracted();
            } catch (IOException e) {
                // a BCC address could not be rewritten (a table failed): try again later, as for any recipient
                log.warn("{}: {} -- message not accepted, try again later", writer.id(), e.getMessage());
                writer.abort();
                throw new Cleanup.Rejected(new org.estafeta.api.message.Reply(451, "4.3.0",
                        "Error: queue file write error"));
            }
            if (filtering != null && !filter()) {
                writer.abort();
                return writer.id();
            }
            if (!filterRecipients.isEmpty()) {
                // recipients a filter added: delivered as received (no rewriting), default DSN
                List<org.estafeta.queue.Envelope.Recipient> all = new ArrayList<>(late.recipients());
                for (String r : filterRecipients) {
                    all.add(new org.estafeta.queue.Envelope.Recipient(r, List.of(), java.util.Optional.empty(),
                            org.estafeta.queue.Envelope.Status.PENDING));
                }
                late = new org.estafeta.queue.Envelope.Extracted(late.actions(), all);
            }
            writer.commit(target, late);
            return writer.id();
        } catch (IOException e) {
            done = true;
            closeTables();
            writer.abort();
            throw storage(e);
        } finally {
            if (filtering != null) {
                filtering.spool().delete();
            }
        }
    }

    /**
     * Runs the content filters on the complete message and acts on their outcome: the added headers go into the
     * queue file, then the spooled message. Returns false when the message is to be discarded; throws
     * {@link Cleanup.Rejected} with the reply of a rejection, deferral or failure.
     */
    private boolean filter() throws IOException, Cleanup.Rejected {
        Spool spool = filtering.spool();
        spool.finish();
        byte[] top = filtering.top();
        int headerLimit = 2 * settings.headerSizeLimit() + top.length;
        FilterChain.Outcome outcome = filtering.chain().run(filtering.envelope(),
                added -> new SpooledContent(top, added, spool.file(), spool.size(), headerLimit + added.length),
                filtering.context(), new FilterChain.ActionLog() {
                    @Override
                    public void action(String verb, String subject, String detail) {
                        logAction(verb, subject, detail);
                    }

                    @Override
                    public void warn(String text) {
                        log.warn("{}: {}", writer.id(), text);
                    }
                });
        if (outcome instanceof FilterChain.Outcome.Refuse r) {
            writer.abort();
            throw new Cleanup.Rejected(r.reply());
        }
        if (outcome instanceof FilterChain.Outcome.Discard) {
            return false;
        }
        FilterChain.Outcome.Pass pass = (FilterChain.Outcome.Pass) outcome;
        if (pass.hold()) {
            target = QueueName.HOLD;
        }
        byte[] lines = FilterChain.lines(pass.headers());
        writer.write(lines, 0, lines.length);
        filterRecipients = pass.recipients();
        if (!pass.rewritesContent()) {
            spool.copyTo(writer);
            return true;
        }
        try {
            ContentEdits.copy(spool.file(), pass.edits(), pass.body(), writer::write, settings.headerSizeLimit());
        } finally {
            pass.body().ifPresent(p -> {
                try {
                    java.nio.file.Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // the filter's temporary file
                }
            });
        }
        return true;
    }

    /** Recipients the content filters added (extracted records at commit). */
    private List<String> filterRecipients = List.of();

    @Override
    public void abort() {
        done = true;
        closeTables();
        writer.abort();
        if (filtering != null) {
            filtering.spool().delete();
        }
    }

    private boolean tablesClosed;

    private void closeTables() {
        if (tablesClosed) {
            return;
        }
        tablesClosed = true;
        if (checks != null) {
            checks.close();
        }
        if (rewriter != null) {
            rewriter.close();
        }
    }

    private IOException storage(IOException e) {
        if (e instanceof InsufficientStorageException || !QueueStore.isStorageShortage(e)) {
            return e;
        }
        return new InsufficientStorageException(writer.id() + ": queue file write error: " + e.getMessage(), e);
    }
}
