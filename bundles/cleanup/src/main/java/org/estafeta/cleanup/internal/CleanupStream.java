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
 * Memory is one header field, one body chunk and the writer's fixed buffer, whatever the message size.
 *
 * <p>With a filter chain ({@link SessionChain}: header_checks and body_checks first, then the content filters and
 * milters) each complete header goes through the chain before it is written (a filter may replace or delete it), and
 * the body goes through in chunks of whole lines. With content filters besides the checks the bytes go to a
 * {@link Spool}; at commit the filters' end-of-message verdicts are taken and the spool is copied into the queue
 * file after the headers they added, with their edits.
 */
final class CleanupStream implements Cleanup.Stream {
    private final QueueStore.Writer writer;
    private final CleanupSettings settings;
    private final Logger log;
    private final Instant arrival;
    private QueueName target;
    /** header address rewriting (canonical maps, masquerading) of this message, or null. */
    private final AddressRewriter rewriter;
    private final org.estafeta.cleanup.Submission submission;
    /** Header address rewriting failed: the message is refused with 451 4.3.0 and the reason is logged. */
    private String deferred;
    /** Received headers seen, cleanup's own counted (hopcount_limit). */
    private int hops = 1;
    private boolean tooManyHops;
    /** An access(5) DISCARD: acknowledged, never queued. */
    private boolean discarded;
    /** The body bytes not yet given to the filters: whole lines, at most one chunk. */
    private final ByteArrayOutputStream chunk = new ByteArrayOutputStream(8192);
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
    /** The filters of this message (header/body checks included), or null when none is configured. */
    private final Filtering filtering;
    /** Recipients the filters added, removed; a new sender (extracted records at commit). */
    private List<String> filterRecipients = List.of();
    private List<String> removedRecipients = List.of();
    private java.util.Optional<String> changedSender = java.util.Optional.empty();
    /** FILTER, REDIRECT and BCC decisions of the filters (header/body checks' among them). */
    private String filterTo;
    private String redirectTo;
    private final List<String> blindCopies = new ArrayList<>();
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
     * What a message with filters needs: the chain (closed with the message when {@code ownChain}: cleanup opened it
     * for this message alone), the envelope the filters get at the end, the lines cleanup wrote on top of the queue
     * file (they are part of what filters see), and the spool the rest goes to until the filters have spoken (null
     * when only header/body checks run: they never need the message again).
     */
    record Filtering(SessionChain chain, boolean ownChain, org.estafeta.api.message.Envelope envelope, byte[] top,
            Spool spool) {
    }

    CleanupStream(QueueStore.Writer writer, CleanupSettings settings, Logger log, Instant arrival, QueueName target) {
        this(writer, settings, log, arrival, target, null, null, null);
    }

    /**
     * @param rewriter header address rewriting, or null when headers are not rewritten; closed with the stream
     * @param filtering the filters, or null; with a spool the message goes there until commit, which deletes it
     */
    CleanupStream(QueueStore.Writer writer, CleanupSettings settings, Logger log, Instant arrival, QueueName target,
            org.estafeta.cleanup.Submission submission, AddressRewriter rewriter, Filtering filtering) {
        this.filtering = filtering;
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
     * The records the filters (header/body checks among them) decided, for the queue file's extracted segment:
     * FILTER, then REDIRECT (the last of each), a new sender, the removed recipients, then the BCC recipients and
     * those filters added (docs/queue-file-format.md).
     */
    private org.estafeta.queue.Envelope.Extracted extracted() throws IOException {
        List<org.estafeta.queue.Envelope.Action> actions = new ArrayList<>();
        if (filterTo != null) {
            actions.add(new org.estafeta.queue.Envelope.Action("filter", filterTo));
        }
        if (redirectTo != null) {
            actions.add(new org.estafeta.queue.Envelope.Action("redirect", redirectTo));
        }
        changedSender.ifPresent(v -> actions.add(new org.estafeta.queue.Envelope.Action("sender", v)));
        for (String r : removedRecipients) {
            actions.add(new org.estafeta.queue.Envelope.Action("remove", r));
        }
        List<org.estafeta.queue.Envelope.Recipient> rcpts = new ArrayList<>();
        if (!blindCopies.isEmpty()) {
            if (blindCopyRecipients != null) {
                rcpts.addAll(blindCopyRecipients.recipients(blindCopies));
            } else {
                blindCopies.stream().distinct().map(a -> new org.estafeta.queue.Envelope.Recipient(a,
                        List.of("NEVER"), java.util.Optional.empty(), org.estafeta.queue.Envelope.Status.PENDING))
                        .forEach(rcpts::add);
            }
        }
        for (String r : filterRecipients) {
            // recipients a filter added: delivered as given (no rewriting), default DSN
            rcpts.add(new org.estafeta.queue.Envelope.Recipient(r, List.of(), java.util.Optional.empty(),
                    org.estafeta.queue.Envelope.Status.PENDING));
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
        if (f != null && f.getName().equalsIgnoreCase("Received") && ++hops >= settings.hopcountLimit()
                && !tooManyHops) {
            // Postfix's cleanup: the message's Received headers (its own included) count the hops of a loop
            tooManyHops = true;
            log.warn("{}: message rejected: hopcount exceeded", writer.id());
        }
        boolean drop = f != null && settings.dropHeaders().contains(f.getName().toLowerCase(Locale.ROOT));
        if (filtering != null && f != null && filtering.chain().open()) {
            bytes = filtering.chain().header(bytes, drop);
        }
        if (drop && bytes == original) {
            // message_drop_headers (Bcc, Content-Length, Resent-Bcc, Return-Path by default): header_checks saw it,
            // the other filters do not, and it is not queued
            return;
        }
        if (rewriter != null && f != null && deferred == null && bytes == original) {
            // as Postfix: a header that header_checks (and the filters) left alone has its addresses rewritten after
            try {
                bytes = HeaderAddresses.rewrite(f.getName(), bytes, rewriter::header);
            } catch (IOException e) {
                deferred = e.getMessage();
                log.warn("{}: {} -- message not accepted, try again later", writer.id(), deferred);
            }
        }
        emit(bytes);
    }

    // ------------------------------------------------------------------ the body, in chunks of whole lines

    /** Body bytes: written through, or (with filters) gathered into chunks of whole lines for the chain. */
    private void body(byte[] data, int off, int len) throws IOException {
        if (filtering == null) {
            emit(data, off, len);
            return;
        }
        int end = off + len;
        while (off < end) {
            int n = Math.min(end - off, SessionChain.CHUNK - chunk.size());
            chunk.write(data, off, n);
            off += n;
            if (chunk.size() == SessionChain.CHUNK) {
                flushChunk(false);
            }
        }
    }

    /**
     * Gives the chain the gathered body bytes up to their last line end (all of them when {@code all}, or when one
     * line fills the chunk: it goes in pieces), keeping the rest for the next chunk.
     */
    private void flushChunk(boolean all) throws IOException {
        byte[] buf = chunk.toByteArray();
        int cut = buf.length;
        if (!all) {
            int lf = buf.length - 1;
            while (lf >= 0 && buf[lf] != '\n') {
                lf--;
            }
            cut = lf >= 0 ? lf + 1 : buf.length;
        }
        chunk.reset();
        chunk.write(buf, cut, buf.length - cut);
        if (cut == 0) {
            return;
        }
        byte[] piece = cut == buf.length ? buf : java.util.Arrays.copyOf(buf, cut);
        SessionChain chain = filtering.chain();
        emit(chain.open() ? chain.body(piece) : piece);
    }

    /**
     * Postfix's cleanup_act_log() for an action of a filter or of header/body checks: {@code ID: reject: header
     * Subject: x from host[addr]; from=<s> to=<r> proto=ESMTP helo=<h>: text}.
     */
    void logAction(String verb, String subject, String optional) {
        logLine(verb, subject, optional);
    }

    /** The same line for any subject ({@code header TEXT}, {@code filter NAME (BUNDLE VERSION)}). */
    private void logLine(String verb, String subject, String optional) {
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
        if (filtering != null && filtering.chain().open()) {
            filtering.chain().endOfHeaders();
        }
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
            if (filtering != null && filtering.spool() != null) {
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
        boolean chainDone = false;
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
                    body(rest, 0, rest.length);
                }
            }
            if (filtering != null) {
                flushChunk(true);
            }
            done = true;
            closeTables();
            if (tooManyHops) {
                writer.abort();
                throw new Cleanup.Rejected(new org.estafeta.api.message.Reply(554, "5.4.0", "Error: too many hops"));
            }
            if (deferred != null) {
                writer.abort();
                throw new Cleanup.Rejected(new org.estafeta.api.message.Reply(451, "4.3.0",
                        "Error: queue file write error"));
            }
            if (discarded) {
                writer.abort();
                return writer.id();
            }
            if (filtering != null) {
                chainDone = true;
                if (!filter()) {
                    writer.abort();
                    return writer.id();
                }
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
            writer.commit(target, late);
            return writer.id();
        } catch (IOException e) {
            done = true;
            closeTables();
            writer.abort();
            throw storage(e);
        } finally {
            if (filtering != null) {
                if (!chainDone) {
                    filtering.chain().abortMessage(chainMessage);
                }
                if (filtering.ownChain()) {
                    filtering.chain().close();
                }
                if (filtering.spool() != null) {
                    filtering.spool().delete();
                }
            }
        }
    }

    /**
     * Takes the filters' end-of-message verdicts (header/body checks' first) and acts on them: the added headers go
     * into the queue file, then the spooled message with the filters' edits; FILTER, REDIRECT, BCC, added and removed
     * recipients and a new sender go to the extracted segment. Returns false when the message is to be discarded;
     * throws {@link Cleanup.Rejected} with the reply of a rejection, deferral or failure.
     */
    private boolean filter() throws IOException, Cleanup.Rejected {
        Spool spool = filtering.spool();
        byte[] top = filtering.top();
        java.util.function.Function<byte[], org.estafeta.api.message.MessageContent> content = null;
        if (spool != null) {
            spool.finish();
            int headerLimit = 2 * settings.headerSizeLimit() + top.length;
            content = added -> new SpooledContent(top, added, spool.file(), spool.size(), headerLimit + added.length);
        }
        SessionChain.Outcome outcome = filtering.chain().endOfMessage(filtering.envelope(), content);
        if (outcome instanceof SessionChain.Outcome.Refuse r) {
            writer.abort();
            throw new Cleanup.Rejected(r.reply());
        }
        if (outcome instanceof SessionChain.Outcome.Discard) {
            return false;
        }
        SessionChain.Outcome.Pass pass = (SessionChain.Outcome.Pass) outcome;
        if (pass.hold()) {
            target = QueueName.HOLD;
        }
        filterRecipients = pass.recipients();
        removedRecipients = pass.removeRecipients();
        changedSender = pass.sender();
        pass.route().ifPresent(v -> filterTo = v);
        pass.redirect().ifPresent(v -> redirectTo = v);
        blindCopies.addAll(pass.blindCopies());
        if (spool == null) {
            return true; // only the checks ran: the message is in the queue file already
        }
        byte[] lines = FilterHeaderLines.lines(pass.headers());
        writer.write(lines, 0, lines.length);
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

    @Override
    public void abort() {
        done = true;
        closeTables();
        writer.abort();
        if (filtering != null) {
            filtering.chain().abortMessage(chainMessage);
            if (filtering.ownChain()) {
                filtering.chain().close();
            }
            if (filtering.spool() != null) {
                filtering.spool().delete();
            }
        }
    }

    private boolean tablesClosed;
    /** Which of the chain's messages this is ({@link SessionChain#data}). */
    private int chainMessage;

    void chainMessage(int no) {
        this.chainMessage = no;
    }

    /** The header/body check tables of this message, closed with it; or null. */
    private ContentChecks checkTables;

    /** Closes these check tables with the message. */
    void closeWith(ContentChecks tables) {
        this.checkTables = tables;
    }

    private void closeTables() {
        if (tablesClosed) {
            return;
        }
        tablesClosed = true;
        if (checkTables != null) {
            checkTables.close();
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
