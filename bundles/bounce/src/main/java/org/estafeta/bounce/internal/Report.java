package org.estafeta.bounce.internal;

import java.io.BufferedInputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

import org.estafeta.bounce.Notice;
import org.estafeta.bounce.Notice.RecipientStatus;

/**
 * One report message, written as Postfix's bounce_notify_util.c writes it: a few headers, then a
 * {@code multipart/report; report-type=delivery-status} with the human-readable notification, the
 * {@code message/delivery-status} fields and the original (complete, or its headers only).
 *
 * <p>The original is streamed from {@link Notice#content()}: once to learn whether it is longer than
 * {@code bounce_size_limit} (reading at most that many bytes plus one), then to copy it. A longer original is
 * returned as its headers only, as Postfix does since 2.5, so that no MIME structure is cut in half.
 */
final class Report {
    /** Postfix's built-in templates (bounce_templates.c). */
    enum Template {
        FAILURE("Undelivered Mail Returned to Sender", "Postmaster Copy: Undelivered Mail", List.of(
                "This is the mail system at host $myhostname.",
                "",
                "I'm sorry to have to inform you that your message could not",
                "be delivered to one or more recipients. It's attached below.",
                "",
                "For further assistance, please send mail to postmaster.",
                "",
                "If you do so, please include this problem report. You can",
                "delete your own text from the attached returned message.",
                "",
                "                   The mail system")),
        DELAY("Delayed Mail (still being retried)", "Postmaster Warning: Delayed Mail", List.of(
                "This is the mail system at host $myhostname.",
                "",
                "####################################################################",
                "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #",
                "####################################################################",
                "",
                "Your message could not be delivered for more than $delay_warning_time_hours hour(s).",
                "It will be retried until it is $maximal_queue_lifetime_days day(s) old.",
                "",
                "For further assistance, please send mail to postmaster.",
                "",
                "If you do so, please include this problem report. You can",
                "delete your own text from the attached returned message.",
                "",
                "                   The mail system")),
        SUCCESS("Successful Mail Delivery Report", "Successful Mail Delivery Report", List.of(
                "This is the mail system at host $myhostname.",
                "",
                "Your message was successfully delivered to the destination(s)",
                "listed below. If the message was delivered to mailbox you will",
                "receive no further notifications. Otherwise you may still receive",
                "notifications of mail delivery errors from other systems.",
                "",
                "                   The mail system"));

        final String subject;
        final String postmasterSubject;
        final List<String> body;

        Template(String subject, String postmasterSubject, List<String> body) {
            this.subject = subject;
            this.postmasterSubject = postmasterSubject;
            this.body = body;
        }
    }

    private static final DateTimeFormatter MAIL_DATE =
            DateTimeFormatter.ofPattern("EEE, ppd MMM yyyy HH:mm:ss xx (zzz)", Locale.US);
    private static final int WRAP_LENGTH = 79;
    private static final int WRAP_INDENT = 4;

    private final Notice notice;
    private final BounceSettings settings;
    private final Template template;
    private final boolean postmasterCopy;
    private final List<RecipientStatus> recipients;
    private final boolean headersOnly;
    private final Clock clock;
    private final String boundary;
    /** Postfix's mime_encoding: 8bit, 7bit, or null for none. */
    private final String encoding;
    private final boolean smtputf8;

    /**
     * @param postmasterCopy a copy for the postmaster: its own subject, {@code Auto-Submitted: auto-generated}, no
     *        boilerplate
     * @param recipients the recipients to report, already filtered by NOTIFY
     * @param headersOnly return the original's headers only (RET=HDRS, delay and success reports, postmaster copies)
     */
    Report(Notice notice, BounceSettings settings, Template template, boolean postmasterCopy,
            List<RecipientStatus> recipients, boolean headersOnly, Clock clock) {
        this.notice = notice;
        this.settings = settings;
        this.template = template;
        this.postmasterCopy = postmasterCopy;
        this.recipients = List.copyOf(recipients);
        this.headersOnly = headersOnly;
        this.clock = clock;
        this.boundary = notice.queueId() + "." + clock.instant().getEpochSecond() + "/" + settings.myhostname();
        String body = notice.mailParameters().getOrDefault("BODY", "");
        this.encoding = settings.smtputf8Enable() || body.equalsIgnoreCase("8BITMIME") ? "8bit"
                : body.equalsIgnoreCase("7BIT") ? "7bit" : null;
        this.smtputf8 = notice.mailParameters().containsKey("SMTPUTF8");
    }

    /** Whether the report is declared 8bit (the submission then says BODY=8BITMIME). */
    boolean eightBit() {
        return "8bit".equals(encoding);
    }

    /** Whether the original asked for SMTPUTF8 (the report is then a message/global-delivery-status). */
    boolean smtputf8() {
        return smtputf8;
    }

    /** Writes the report addressed to {@code to}, CRLF line ends. */
    void write(String to, OutputStream stream) throws IOException {
        Lines out = new Lines(stream);
        writeHeaders(to, out);
        if (!postmasterCopy) {
            for (String line : template.body) {
                out.line(expand(line));
            }
        }
        for (RecipientStatus r : recipients) {
            out.line("");
            wrap(out, r.address().isEmpty() ? "<>: " + printable(reason(r))
                    : "<" + printable(r.address()) + ">: " + printable(reason(r)));
        }
        writeDeliveryStatus(out);
        writeOriginal(out);
        out.flush();
    }

    private void writeHeaders(String to, Lines out) throws IOException {
        out.line("From: MAILER-DAEMON@" + settings.myhostname() + " (Mail Delivery System)");
        out.line("Subject: " + (postmasterCopy ? template.postmasterSubject : template.subject));
        out.line("To: " + to);
        out.line("Date: " + mailDate(clock.instant()));
        out.line("Auto-Submitted: " + (postmasterCopy ? "auto-generated" : "auto-replied"));
        out.line("MIME-Version: 1.0");
        out.line("Content-Type: multipart/report; report-type=delivery-status;");
        out.line("\tboundary=\"" + boundary + "\"");
        if (encoding != null) {
            out.line("Content-Transfer-Encoding: " + encoding);
        }
        out.line("");
        out.line("This is a MIME-encapsulated message.");
        out.line("");
        out.line("--" + boundary);
        out.line("Content-Description: Notification");
        out.line("Content-Type: text/plain; charset=" + (eightBit() ? "utf-8" : "us-ascii"));
        if (eightBit()) {
            out.line("Content-Transfer-Encoding: 8bit");
        }
        out.line("");
    }

    private void writeDeliveryStatus(Lines out) throws IOException {
        out.line("");
        out.line("--" + boundary);
        out.line("Content-Description: Delivery report");
        out.line("Content-Type: message/" + (smtputf8 ? "global-" : "") + "delivery-status");
        if (eightBit() && smtputf8) {
            out.line("Content-Transfer-Encoding: 8bit");
        }
        out.line("");
        out.line("Reporting-MTA: dns; " + settings.myhostname());
        String envid = notice.mailParameters().getOrDefault("ENVID", "");
        if (!envid.isEmpty()) {
            out.line("Original-Envelope-Id: " + printable(unxtext(envid)));
        }
        out.line("X-" + settings.mailName() + "-Queue-ID: " + notice.queueId());
        out.line("X-" + settings.mailName() + "-Sender: " + addressType(reportedSender()) + "; "
                + printable(reportedSender()));
        if (notice.arrivalMillis() > 0) {
            out.line("Arrival-Date: " + mailDate(Instant.ofEpochMilli(notice.arrivalMillis())));
        }
        for (RecipientStatus r : recipients) {
            out.line("");
            out.line("Final-Recipient: " + addressType(r.address()) + "; " + printable(r.address()));
            Optional<String> orcpt = r.originalRecipient().filter(v -> !v.isEmpty());
            if (orcpt.isPresent()) {
                out.line("Original-Recipient: " + printable(unxtext(orcpt.get())));
            }
            out.line("Action: " + action(r));
            out.line("Status: " + printable(r.status()));
            if (r.remoteMta().isPresent()) {
                wrap(out, "Remote-MTA: dns; " + printable(hostName(r.remoteMta().get())));
                wrap(out, "Diagnostic-Code: smtp; " + printable(r.diagnostic()));
            } else {
                wrap(out, "Diagnostic-Code: X-" + settings.mailName() + "; " + printable(r.diagnostic()));
            }
            if (template == Template.DELAY) {
                long lifetime = notice.config().seconds("maximal_queue_lifetime");
                out.line("Will-Retry-Until: "
                        + mailDate(Instant.ofEpochMilli(notice.arrivalMillis()).plusSeconds(lifetime)));
            }
        }
    }

    private void writeOriginal(Lines out) throws IOException {
        boolean hdrs = headersOnly;
        long limit = settings.sizeLimit();
        if (!hdrs && limit > 0) {
            try (InputStream probe = openOriginal(false)) {
                hdrs = probe != null && longerThan(probe, limit);
            }
        }
        boolean undelivered = template != Template.SUCCESS;
        out.line("");
        out.line("--" + boundary);
        out.line("Content-Description: " + (undelivered ? "Undelivered " : "")
                + (hdrs ? "Message Headers" : "Message"));
        if (smtputf8) {
            out.line("Content-Type: message/" + (hdrs ? "global-headers" : "global"));
        } else {
            out.line("Content-Type: " + (hdrs ? "text/rfc822-headers" : "message/rfc822"));
        }
        if (eightBit()) {
            out.line("Content-Transfer-Encoding: 8bit");
        }
        out.line("");
        try (InputStream in = openOriginal(true)) {
            if (in == null) {
                out.line("\t--- Undelivered message unavailable ---");
            } else {
                // cleanup removes Return-Path; Postfix adds one to the returned message for header_checks
                out.line("Return-Path: <" + reportedSender() + ">");
                if (!(hdrs ? out.copyHeaders(in) : out.copyAll(in))) {
                    out.line("");
                }
            }
        }
        out.line("");
        out.line("--" + boundary + "--");
    }

    /** The original, or null when it is gone (Postfix then sends a place holder); other errors propagate. */
    private InputStream openOriginal(boolean buffered) throws IOException {
        try {
            InputStream in = notice.content().open();
            return buffered ? new BufferedInputStream(in, 8192) : in;
        } catch (NoSuchFileException | FileNotFoundException e) {
            return null;
        }
    }

    private static boolean longerThan(InputStream in, long limit) throws IOException {
        byte[] buf = new byte[8192];
        long seen = 0;
        int n;
        while (seen <= limit && (n = in.read(buf, 0, (int) Math.min(buf.length, limit + 1 - seen))) > 0) {
            seen += n;
        }
        return seen > limit;
    }

    /** The sender as the report names it: Postfix writes MAILER-DAEMON for the null sender. */
    private String reportedSender() {
        return notice.sender().isEmpty() ? "MAILER-DAEMON" : notice.sender();
    }

    private String addressType(String address) {
        return smtputf8 && !address.chars().allMatch(c -> c < 0x80) ? "utf-8" : "rfc822";
    }

    private String action(RecipientStatus r) {
        return switch (template) {
            case FAILURE -> "failed";
            case DELAY -> "delayed";
            case SUCCESS -> r.relayed() ? "relayed" : "delivered";
        };
    }

    /** The human-readable reason: a remote reply says which host gave it, as Postfix's smtp client writes it. */
    static String reason(RecipientStatus r) {
        return r.remoteMta().map(m -> "host " + hostAndAddress(m) + " said: " + r.diagnostic()).orElse(r.diagnostic());
    }

    /** {@code mx.example.com[192.0.2.1]:25} → {@code mx.example.com}; a bare {@code [192.0.2.1]:25} → the address. */
    static String hostName(String relay) {
        String hostAddr = hostAndAddress(relay);
        int bracket = hostAddr.indexOf('[');
        if (bracket > 0) {
            return hostAddr.substring(0, bracket);
        }
        return bracket == 0 ? hostAddr.substring(1, Math.max(1, hostAddr.indexOf(']'))) : hostAddr;
    }

    /** {@code mx.example.com[192.0.2.1]:25} → {@code mx.example.com[192.0.2.1]}. */
    static String hostAndAddress(String relay) {
        int close = relay.lastIndexOf(']');
        if (close >= 0) {
            return relay.substring(0, close + 1);
        }
        int colon = relay.lastIndexOf(':');
        return colon > 0 && relay.indexOf(':') == colon ? relay.substring(0, colon) : relay;
    }

    private String expand(String line) {
        String s = line.replace("$myhostname", settings.myhostname());
        if (s.contains("$delay_warning_time_hours")) {
            s = s.replace("$delay_warning_time_hours",
                    Long.toString(notice.config().seconds("delay_warning_time") / 3600));
        }
        if (s.contains("$maximal_queue_lifetime_days")) {
            s = s.replace("$maximal_queue_lifetime_days",
                    Long.toString(notice.config().seconds("maximal_queue_lifetime") / 86400));
        }
        return s;
    }

    private String mailDate(Instant t) {
        return MAIL_DATE.format(t.atZone(clock.getZone()));
    }

    /** Postfix masks control characters in logged reasons and addresses, so the report stays well-formed. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> sb.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return sb.toString();
    }

    /** RFC 3461 xtext: {@code +XX} is the byte with hexadecimal value XX; a malformed escape is kept as it is. */
    static String unxtext(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '+' && i + 2 < s.length()
                    && Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0) {
                sb.append((char) Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    /** Postfix's line_wrap(text, 79, 4): break at blanks, continuation lines indented by four. */
    static void wrap(Lines out, String text) throws IOException {
        int currLen = WRAP_LENGTH;
        int indent = 0;
        int start = 0;
        int word = 0;
        while (true) {
            int nextSpace = word;
            while (nextSpace < text.length() && text.charAt(nextSpace) != ' ' && text.charAt(nextSpace) != '\t') {
                nextSpace++;
            }
            if (word > start && nextSpace - start > currLen) {
                out.line(" ".repeat(indent) + text.substring(start, word).stripTrailing());
                while (word < text.length() && Character.isWhitespace(text.charAt(word))) {
                    word++;
                }
                if (start == 0) {
                    indent += WRAP_INDENT;
                    currLen -= WRAP_INDENT;
                }
                start = word;
            }
            if (nextSpace >= text.length()) {
                break;
            }
            word = nextSpace + 1;
        }
        out.line(" ".repeat(indent) + text.substring(start).stripTrailing());
    }

    /** Lines and copied bytes to the report stream. */
    static final class Lines {
        private static final byte[] CRLF = {'\r', '\n'};
        private final OutputStream out;

        Lines(OutputStream out) {
            this.out = out;
        }

        void line(String s) throws IOException {
            out.write(s.getBytes(StandardCharsets.UTF_8));
            out.write(CRLF);
        }

        /** Copies {@code in} to the end; returns whether it ended with a line end. */
        boolean copyAll(InputStream in) throws IOException {
            byte[] buf = new byte[8192];
            int last = '\n';
            int n;
            while ((n = in.read(buf)) > 0) {
                out.write(buf, 0, n);
                last = buf[n - 1];
            }
            return last == '\n';
        }

        /**
         * Copies the header lines of {@code in}: up to the first line that is neither a header ({@code name:}) nor
         * a continuation (starts with a blank), as Postfix's bounce_original does. Lines longer than the buffer are
         * copied in pieces, judged by their first piece. Returns whether the copy ended with a line end.
         */
        boolean copyHeaders(InputStream in) throws IOException {
            byte[] line = new byte[8192];
            boolean lineStart = true;
            boolean ended = true;
            int n;
            while ((n = readLine(in, line)) > 0) {
                if (lineStart && !isHeaderOrContinuation(line, n)) {
                    break;
                }
                out.write(line, 0, n);
                lineStart = line[n - 1] == '\n';
                ended = lineStart;
            }
            return ended;
        }

        void flush() throws IOException {
            out.flush();
        }

        /** Reads up to and including LF, or until {@code buf} is full; returns the length, 0 at the end. */
        private static int readLine(InputStream in, byte[] buf) throws IOException {
            int n = 0;
            int c;
            while (n < buf.length && (c = in.read()) >= 0) {
                buf[n++] = (byte) c;
                if (c == '\n') {
                    break;
                }
            }
            return n;
        }

        /** Postfix's is_header(), or a line that starts with a blank. */
        static boolean isHeaderOrContinuation(byte[] line, int n) {
            if (line[0] == ' ' || line[0] == '\t') {
                return true;
            }
            int i = 0;
            while (i < n && line[i] > ' ' && line[i] < 0x7f && line[i] != ':') {
                i++;
            }
            if (i == 0) {
                return false;
            }
            while (i < n && (line[i] == ' ' || line[i] == '\t')) {
                i++;
            }
            return i < n && line[i] == ':';
        }
    }
}
