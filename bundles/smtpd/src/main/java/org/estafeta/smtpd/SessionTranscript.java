package org.estafeta.smtpd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigSnapshot;

/**
 * Postfix's smtpd_chat history and smtpd_chat_notify(): the session's dialogue ({@code In:  } and {@code Out: }
 * lines) is kept while {@code notify_classes} names a class smtpd reports, and when the session had an error of
 * such a class the postmaster ({@code error_notice_recipient}; {@code bounce_notice_recipient} for the
 * {@code bounce} class) gets it as a message from the double-bounce sender, "Postfix SMTP server: errors from
 * host[addr]" in Postfix's words. Message content is never recorded, nor AUTH responses (credentials).
 *
 * <p>The class of an error is read from its reply, as Postfix's call sites set it: enhanced status X.5.X and the
 * 500-504 syntax and sequence replies are {@code protocol}; X.7.X and address refusals X.1.X {@code policy};
 * X.3.1 and queue file write errors {@code resource}; {@code 451 4.3.5 Server configuration error}
 * {@code software}; X.3.4 (message too big) {@code bounce}. Not thread-safe: one session's event loop uses it.
 */
final class SessionTranscript {
    enum ErrorClass {
        BOUNCE, POLICY, PROTOCOL, RESOURCE, SOFTWARE
    }

    /** Postfix's smtpd_history_flush_threshold default: after a transaction, a longer history is sent and reset. */
    static final int FLUSH_THRESHOLD = 100;
    /** History kept at most, whatever happens (a client sending junk for ever must not grow it without bound). */
    static final int MAX_LINES = 1000;
    private static final int LENGTH = 78;
    private static final int INDENT = 4;

    private final Set<ErrorClass> notify;
    private final List<String> history = new ArrayList<>();
    private final Set<ErrorClass> errors = EnumSet.noneOf(ErrorClass.class);
    private boolean truncated;

    SessionTranscript(Set<ErrorClass> notify) {
        this.notify = notify;
    }

    /** The classes of main.cf's {@code notify_classes} that smtpd reports (bounce, policy, protocol, resource, software). */
    static SessionTranscript from(ConfigSnapshot config) {
        Set<ErrorClass> set = EnumSet.noneOf(ErrorClass.class);
        if (config != null) {
            for (String w : config.list("notify_classes")) {
                switch (w.strip().toLowerCase(Locale.ROOT)) {
                    case "bounce" -> set.add(ErrorClass.BOUNCE);
                    case "policy" -> set.add(ErrorClass.POLICY);
                    case "protocol" -> set.add(ErrorClass.PROTOCOL);
                    case "resource" -> set.add(ErrorClass.RESOURCE);
                    case "software" -> set.add(ErrorClass.SOFTWARE);
                    default -> {
                        // 2bounce, delay, data: the queue manager's and the bounce service's
                    }
                }
            }
        }
        return new SessionTranscript(set);
    }

    boolean active() {
        return !notify.isEmpty();
    }

    void in(String line) {
        append("In:  ", line);
    }

    void out(String reply) {
        if (!active()) {
            return;
        }
        for (String l : reply.split("\r\n")) {
            append("Out: ", l);
        }
        ErrorClass c = classify(reply);
        if (c != null) {
            errors.add(c);
        }
    }

    private void append(String direction, String text) {
        if (!active()) {
            return;
        }
        if (history.size() >= MAX_LINES) {
            truncated = true;
            return;
        }
        history.add(direction + text);
    }

    /** The error class a reply reports, or null for none (2xx, 3xx, and replies Postfix does not report). */
    static ErrorClass classify(String reply) {
        if (reply.length() < 3 || (reply.charAt(0) != '4' && reply.charAt(0) != '5')) {
            return null;
        }
        String code = reply.substring(0, 3);
        String status = reply.length() > 4 && reply.charAt(3) == ' ' || reply.length() > 4 && reply.charAt(3) == '-'
                ? reply.substring(4).split(" ", 2)[0] : "";
        if (!status.matches("[45]\\.\\d{1,3}\\.\\d{1,3}")) {
            status = "";
        }
        if (status.equals("4.3.5")) {
            return ErrorClass.SOFTWARE;
        }
        if (status.endsWith(".3.1") || status.equals("4.3.0") && reply.contains("queue file write error")) {
            return ErrorClass.RESOURCE;
        }
        if (status.endsWith(".3.4")) {
            return ErrorClass.BOUNCE;
        }
        if (status.startsWith("5.7.") || status.startsWith("4.7.") || status.startsWith("5.1.") || status.startsWith("4.1.")) {
            return ErrorClass.POLICY;
        }
        if (status.startsWith("5.5.") || status.startsWith("4.5.")
                || status.isEmpty() && code.compareTo("500") >= 0 && code.compareTo("504") <= 0) {
            return ErrorClass.PROTOCOL;
        }
        return null;
    }

    /** Whether the history should go to the postmaster now: some error of a notified class happened. */
    boolean due() {
        for (ErrorClass c : errors) {
            if (notify.contains(c)) {
                return true;
            }
        }
        return false;
    }

    int size() {
        return history.size();
    }

    /**
     * Takes the notice to send, if one is due, and starts a new history. {@code reason} is the session's abort
     * reason ({@code lost connection}, {@code timeout}), or null.
     */
    Optional<Notice> take(String namaddr, String reason, ConfigSnapshot config) {
        Optional<Notice> notice = Optional.empty();
        if (due() && config != null) {
            String myhostname = config.value("myhostname");
            String sender = config.value("double_bounce_sender") + "@" + myhostname;
            String recipient = errors.contains(ErrorClass.BOUNCE) && notify.contains(ErrorClass.BOUNCE)
                    ? config.value("bounce_notice_recipient") : config.value("error_notice_recipient");
            StringBuilder sb = new StringBuilder();
            sb.append("From: Mail Delivery System <MAILER-DAEMON>\r\n");
            sb.append("To: Postmaster <").append(config.value("error_notice_recipient")).append(">\r\n");
            sb.append("Subject: ").append(config.value("mail_name")).append(" SMTP server: errors from ")
                    .append(namaddr).append("\r\n");
            sb.append("\r\n");
            sb.append("Transcript of session follows.\r\n\r\n");
            for (String line : history) {
                wrap(printable(line), sb);
            }
            if (truncated) {
                sb.append("    (more lines not kept)\r\n");
            }
            sb.append("\r\n");
            if (reason != null) {
                sb.append("Session aborted, reason: ").append(reason).append("\r\n");
            }
            sb.append("\r\n");
            sb.append("For other details, see the local mail logfile\r\n");
            notice = Optional.of(new Notice(sender, recipient, sb.toString()));
        }
        history.clear();
        errors.clear();
        truncated = false;
        return notice;
    }

    /** Postfix's line_wrap() with LENGTH 78 and INDENT 4, at blanks; a line that starts with a blank gets one more. */
    private static void wrap(String line, StringBuilder sb) {
        String rest = line;
        boolean first = true;
        while (true) {
            int room = first ? LENGTH : LENGTH - INDENT;
            String prefix = first ? (rest.startsWith(" ") ? " " : "") : " ".repeat(INDENT);
            if (rest.length() <= room) {
                sb.append(prefix).append(rest).append("\r\n");
                return;
            }
            int cut = rest.lastIndexOf(' ', room);
            if (cut <= 0) {
                cut = room;
            }
            sb.append(prefix).append(rest, 0, cut).append("\r\n");
            rest = rest.substring(cut).stripLeading();
            first = false;
            if (rest.isEmpty()) {
                return;
            }
        }
    }

    private static String printable(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return b.toString();
    }

    /** One notice: the envelope and the whole message text (CRLF lines). */
    record Notice(String sender, String recipient, String text) {
        /** Queues the notice through cleanup. Blocking: call it on the worker pool. */
        String send(Cleanup cleanup) throws IOException {
            Submission s = new Submission(sender, Map.of(),
                    List.of(new Submission.Recipient(recipient, List.of(), Optional.empty())),
                    new ClientInfo("127.0.0.1", "localhost", "", false, Optional.empty()), "ESMTP",
                    Submission.Actions.NONE);
            Cleanup.Stream stream = cleanup.openInternal(s);
            boolean done = false;
            try {
                byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
                stream.write(bytes, 0, bytes.length);
                String id = stream.commit();
                done = true;
                return id;
            } catch (Cleanup.Rejected e) {
                done = true;
                throw new IOException(e.reply().toString(), e);
            } finally {
                if (!done) {
                    stream.abort();
                }
            }
        }
    }
}
