package org.estafeta.queue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * {@code postqueue}, {@code postsuper} and {@code postcat} as Postfix's commands of those names answer, over a
 * {@link QueueAdmin}. The arguments are those after the command name ({@code -c CONFDIR} already taken out). The
 * same code runs in the gateway (control socket requests {@code postqueue ...} and {@code postsuper ...}) and in the
 * {@code estafeta} command on the files when the gateway is stopped.
 */
public final class QueueCommands {
    /** sysexits.h, as postqueue uses them. */
    public static final int EX_USAGE = 64;
    public static final int EX_UNAVAILABLE = 69;
    public static final int EX_SOFTWARE = 70;

    /** asctime(3) without the year and newline: what showq's {@code %19.19s} keeps of it. */
    private static final DateTimeFormatter ASCTIME19 = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss", Locale.US);
    private static final DateTimeFormatter ASCTIME = DateTimeFormatter.ofPattern("EEE MMM ppd HH:mm:ss yyyy", Locale.US);

    private QueueCommands() {
    }

    /** One line of output, for standard output or standard error. */
    public record Line(boolean stderr, String text) {
    }

    /** What a command printed and its exit status. */
    public record Output(List<Line> lines, int exit) {
        public Output {
            lines = List.copyOf(lines);
        }

        public String stdout() {
            StringBuilder sb = new StringBuilder();
            lines.stream().filter(l -> !l.stderr()).forEach(l -> sb.append(l.text()).append('\n'));
            return sb.toString();
        }

        public String stderr() {
            StringBuilder sb = new StringBuilder();
            lines.stream().filter(Line::stderr).forEach(l -> sb.append(l.text()).append('\n'));
            return sb.toString();
        }
    }

    private static final class Out {
        final String program;
        final List<Line> lines = new ArrayList<>();

        Out(String program) {
            this.program = program;
        }

        void out(String s) {
            lines.add(new Line(false, s));
        }

        void info(String s) {
            lines.add(new Line(true, program + ": " + s));
        }

        void warn(String s) {
            lines.add(new Line(true, program + ": warning: " + s));
        }

        Output fatal(String s, int exit) {
            lines.add(new Line(true, program + ": fatal: " + s));
            return new Output(lines, exit);
        }

        Output done(int exit) {
            return new Output(lines, exit);
        }
    }

    // ---------------------------------------------------------------------------------------------- postqueue

    private static final String POSTQUEUE_USAGE =
            "usage: postqueue -f | postqueue -i queueid | postqueue -p | postqueue -s site";

    /**
     * {@code postqueue -p} lists the queue without a queue manager.
     */
    public static Output postqueue(List<String> args, QueueAdmin admin, ZoneId zone) {
        return postqueue(args, admin, zone, null);
    }

    /**
     * {@code postqueue -p} lists the queue; {@code -f} and {@code -s SITE} ask the queue manager to deliver all
     * deferred mail now (Estafeta has no per-site flush service: {@code -s} flushes everything, which delivers the
     * site's mail too), {@code -i ID} one message. Without a running queue manager ({@code flush} null, or it says
     * none runs) they answer what Postfix's postqueue answers then: {@code Cannot flush mail queue - mail system is
     * down} (exit 69).
     */
    public static Output postqueue(List<String> args, QueueAdmin admin, ZoneId zone, QueueFlush flush) {
        Out o = new Out("postqueue");
        char mode = 0;
        String operand = null;
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-v")) {
                continue;
            }
            if (a.length() < 2 || a.charAt(0) != '-' || "fpis".indexOf(a.charAt(1)) < 0 || mode != 0) {
                return o.fatal(POSTQUEUE_USAGE, EX_USAGE);
            }
            mode = a.charAt(1);
            if ((mode == 'i' || mode == 's') && a.length() == 2) {
                if (++i >= args.size()) {
                    return o.fatal(POSTQUEUE_USAGE, EX_USAGE);
                }
                operand = args.get(i);
            } else if (mode == 'i' || mode == 's') {
                operand = a.substring(2);
            } else if ((mode == 'f' || mode == 'p') && a.length() != 2) {
                return o.fatal(POSTQUEUE_USAGE, EX_USAGE);
            }
        }
        switch (mode) {
            case 'p':
                try {
                    QueueAdmin.Scan scan = admin.scan();
                    scan.warnings().forEach(o::warn);
                    showq(scan.entries(), zone).forEach(o::out);
                    return o.done(0);
                } catch (IOException e) {
                    return o.fatal("read the queue " + admin.directory() + ": " + e.getMessage(), EX_SOFTWARE);
                }
            case 'f':
            case 's':
                if (flush == null || !flush.flushAll()) {
                    return o.fatal("Cannot flush mail queue - mail system is down", EX_UNAVAILABLE);
                }
                return o.done(0);
            case 'i':
                if (flush == null || !flush.flush(operand)) {
                    return o.fatal("Cannot flush mail queue - mail system is down", EX_UNAVAILABLE);
                }
                return o.done(0);
            default:
                return o.fatal(POSTQUEUE_USAGE, EX_USAGE);
        }
    }

    /** Postfix's mailq listing (showq_compat.c, long queue IDs), with its heading and summary line. */
    public static List<String> showq(List<QueueAdmin.Entry> entries, ZoneId zone) {
        List<String> out = new ArrayList<>();
        long total = 0;
        for (QueueAdmin.Entry e : entries) {
            if (out.isEmpty()) {
                out.add(String.format("%-17s %8s %-19s %s", "----Queue ID-----", "--Size--", "---Arrival Time----",
                        "--Sender/Recipient------"));
            } else {
                out.add("");
            }
            String id = e.id() + (e.queue() == QueueName.ACTIVE ? "*" : e.queue() == QueueName.HOLD ? "!" : "");
            String when = ASCTIME19.format(Instant.ofEpochSecond(e.arrivalMicros() / 1_000_000).atZone(zone));
            out.add(String.format("%-17s %8d %19.19s %s", id, e.size(), when,
                    printable(quote822Local(e.sender().isEmpty() ? "MAILER-DAEMON" : e.sender()))));
            String saved = "";
            for (QueueAdmin.Recipient r : e.recipients()) {
                if (!saved.equals(r.reason())) {
                    saved = r.reason();
                    String show = saved.isEmpty() ? "reason unavailable" : saved;
                    out.add(" ".repeat(Math.max(0, 76 - show.length())) + "(" + show + ")");
                }
                out.add(String.format("%-17s %8s %-19s %s", "", "", "", printable(quote822Local(r.address()))));
            }
            total += e.size();
        }
        if (entries.isEmpty()) {
            out.add("Mail queue is empty");
        } else {
            out.add("");
            out.add("-- " + total / 1024 + " Kbytes in " + entries.size() + " Request"
                    + (entries.size() == 1 ? "" : "s") + ".");
        }
        return out;
    }

    /** quote_822_local: quotes the local part when it is not a dot-atom (RFC 5322), as Postfix shows addresses. */
    static String quote822Local(String address) {
        int at = address.lastIndexOf('@');
        String local = at < 0 ? address : address.substring(0, at);
        String rest = at < 0 ? "" : address.substring(at);
        if (local.isEmpty() || isDotAtom(local)) {
            return address;
        }
        StringBuilder sb = new StringBuilder("\"");
        for (char c : local.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\');
            }
            sb.append(c);
        }
        return sb.append('"').append(rest).toString();
    }

    private static boolean isDotAtom(String s) {
        if (s.startsWith(".") || s.endsWith(".") || s.contains("..")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c <= ' ' || c == 0x7f || "()<>[]:;@\\,\"".indexOf(c) >= 0) {
                return c >= 0x80; // UTF-8 local parts (SMTPUTF8) are shown as they are
            }
        }
        return true;
    }

    /** printable(…, '?'): control characters become '?'. */
    private static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> sb.appendCodePoint(c < ' ' || c == 0x7f ? '?' : c));
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------- postsuper

    private static final String POSTSUPER_USAGE = "usage: postsuper [-c config_dir] [-d queue_id (delete)] "
            + "[-h queue_id (hold)] [-H queue_id (un-hold)] [-r queue_id (requeue)] [-v (verbose)] [queue...]";

    private record Op(char action, String argument) {
    }

    /**
     * {@code postsuper -d ID|ALL}, {@code -h ID|ALL}, {@code -H ID|ALL}, {@code -r ID|ALL} (any number, done in the
     * order given), then optional queue names (default: maildrop incoming active deferred hold). As Postfix: each
     * single-ID operation reports {@code ID: removed} (placed on hold, released from hold, requeued); a summary per
     * kind of operation follows ({@code Deleted: N messages}); exit 0. Release moves hold to deferred, as Postfix
     * does; requeue moves to incoming (Postfix moves to maildrop so that pickup and cleanup run again; Estafeta
     * has no pickup yet, and its queue files are already cleaned up).
     */
    public static Output postsuper(List<String> args, QueueAdmin admin) {
        Out o = new Out("postsuper");
        List<Op> ops = new ArrayList<>();
        int i = 0;
        for (; i < args.size(); i++) {
            String a = args.get(i);
            if (!a.startsWith("-") || a.length() < 2) {
                break;
            }
            if (a.equals("--")) {
                i++;
                break;
            }
            char c = a.charAt(1);
            if (c == 'v' && a.length() == 2) {
                continue;
            }
            if ("eEfpsS".indexOf(c) >= 0) {
                return o.fatal("not supported yet: -" + c, 1);
            }
            if ("dhHr".indexOf(c) < 0) {
                return o.fatal(POSTSUPER_USAGE, 1);
            }
            String arg;
            if (a.length() > 2) {
                arg = a.substring(2);
            } else if (i + 1 < args.size()) {
                arg = args.get(++i);
            } else {
                return o.fatal(POSTSUPER_USAGE, 1);
            }
            if (arg.equals("-")) {
                return o.fatal("not supported yet: -" + c + " - (queue IDs from standard input)", 1);
            }
            ops.add(new Op(c, arg));
        }
        List<QueueName> queues = new ArrayList<>();
        for (; i < args.size(); i++) {
            Optional<QueueName> q = queueName(args.get(i));
            if (q.isEmpty()) {
                return o.fatal("invalid directory name: " + args.get(i), 1);
            }
            queues.add(q.get());
        }
        if (ops.isEmpty()) {
            return o.fatal("not supported yet: postsuper without -d, -h, -H or -r (queue structure check)", 1);
        }
        if (queues.isEmpty()) {
            queues = QueueAdmin.DEFAULT_QUEUES;
        }
        int deleted = 0;
        int held = 0;
        int released = 0;
        int requeued = 0;
        try {
            for (Op op : ops) {
                boolean all = op.argument().equals("ALL");
                switch (op.action()) {
                    case 'd' -> deleted += all ? deleteAll(admin, queues) : one(admin, o, queues, op.argument(), null,
                            "removed", List.of());
                    case 'h' -> held += all ? moveAll(admin, queues, QueueName.HOLD, HOLD_SKIPS)
                            : one(admin, o, queues, op.argument(), QueueName.HOLD, "placed on hold", HOLD_SKIPS);
                    case 'H' -> released += all ? moveAll(admin, queues, QueueName.DEFERRED, RELEASE_SKIPS)
                            : one(admin, o, queues, op.argument(), QueueName.DEFERRED, "released from hold",
                                    RELEASE_SKIPS);
                    case 'r' -> requeued += all ? moveAll(admin, queues, QueueName.INCOMING, REQUEUE_SKIPS)
                            : one(admin, o, queues, op.argument(), QueueName.INCOMING, "requeued", REQUEUE_SKIPS);
                    default -> throw new IllegalStateException();
                }
            }
        } catch (IOException e) {
            return o.fatal(e.getMessage(), 1);
        }
        if (ops.stream().anyMatch(op -> op.action() == 'r')) {
            o.info("Requeued: " + count(requeued));
        }
        if (ops.stream().anyMatch(op -> op.action() == 'd')) {
            o.info("Deleted: " + count(deleted));
        }
        if (ops.stream().anyMatch(op -> op.action() == 'h')) {
            o.info("Placed on hold: " + count(held));
        }
        if (ops.stream().anyMatch(op -> op.action() == 'H')) {
            o.info("Released from hold: " + count(released));
        }
        return o.done(0);
    }

    /* Which source queues an operation leaves alone (Postfix: maildrop mail is never held or requeued). */
    private static final List<QueueName> HOLD_SKIPS = List.of(QueueName.MAILDROP, QueueName.HOLD, QueueName.CORRUPT);
    private static final List<QueueName> REQUEUE_SKIPS = List.of(QueueName.MAILDROP, QueueName.CORRUPT);
    private static final List<QueueName> RELEASE_SKIPS = List.of(QueueName.MAILDROP, QueueName.INCOMING,
            QueueName.ACTIVE, QueueName.DEFERRED, QueueName.CORRUPT);

    private static String count(int n) {
        return n + " message" + (n != 1 ? "s" : "");
    }

    private static Optional<QueueName> queueName(String s) {
        for (QueueName q : QueueName.values()) {
            if (q.directory().equals(s)) {
                return Optional.of(q);
            }
        }
        return Optional.empty();
    }

    /** One message by ID: the first queue (of those named, not skipped) that holds it; two tries, as Postfix. */
    private static int one(QueueAdmin admin, Out o, List<QueueName> queues, String id, QueueName target,
            String done, List<QueueName> skips) throws IOException {
        if (!QueueId.isValid(id)) {
            o.warn("invalid mail queue id: " + id);
            return 0;
        }
        for (int tries = 0; tries < 2; tries++) {
            for (QueueName q : queues) {
                if (skips.contains(q)) {
                    continue;
                }
                boolean ok = target == null ? admin.delete(q, id) : admin.move(q, id, target);
                if (ok) {
                    o.info(id + ": " + done);
                    return 1;
                }
            }
        }
        return 0;
    }

    private static int deleteAll(QueueAdmin admin, List<QueueName> queues) throws IOException {
        int n = 0;
        for (QueueName q : queues) {
            for (String id : admin.ids(q)) {
                if (admin.delete(q, id)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static int moveAll(QueueAdmin admin, List<QueueName> queues, QueueName target, List<QueueName> skips)
            throws IOException {
        int n = 0;
        for (QueueName q : queues) {
            if (skips.contains(q)) {
                continue;
            }
            for (String id : admin.ids(q)) {
                if (admin.move(q, id, target)) {
                    n++;
                }
            }
        }
        return n;
    }

    // ---------------------------------------------------------------------------------------------- postcat

    /**
     * {@code postcat -q ID...} with {@code -e} (envelope), {@code -h} (header), {@code -b} (body); without any of
     * them, everything. Writes to {@code out} as it reads the file (memory stays bounded whatever the message
     * size); returns the diagnostics and the exit status.
     */
    public static Output postcat(List<String> args, QueueAdmin admin, ZoneId zone, OutputStream out)
            throws IOException {
        Out o = new Out("postcat");
        boolean env = false;
        boolean header = false;
        boolean body = false;
        boolean queue = false;
        List<String> ids = new ArrayList<>();
        for (String a : args) {
            if (a.startsWith("-") && a.length() > 1) {
                for (char c : a.substring(1).toCharArray()) {
                    switch (c) {
                        case 'e' -> env = true;
                        case 'h' -> header = true;
                        case 'b' -> body = true;
                        case 'q' -> queue = true;
                        case 'v' -> {
                        }
                        default -> {
                            return o.fatal("usage: postcat [-b (body text)] [-c config_dir] [-e (envelope records)] "
                                    + "[-h (header text)] [-q (access queue)] [-v] [file(s)...]", 1);
                        }
                    }
                }
            } else {
                ids.add(a);
            }
        }
        if (!queue) {
            return o.fatal("not supported yet: postcat without -q (reading queue files by path name)", 1);
        }
        if (!env && !header && !body) {
            env = header = body = true;
        }
        for (String id : ids) {
            if (!QueueId.isValid(id)) {
                return o.fatal("bad mail queue ID: " + id, 1);
            }
            QueueStore.QueuedMessage m = null;
            String path = null;
            for (int tries = 0; tries < 2 && m == null; tries++) {
                for (QueueName q : QueueAdmin.POSTCAT_QUEUES) {
                    try {
                        m = admin.read(q, id);
                        path = q.directory() + "/" + id;
                        break;
                    } catch (java.nio.file.NoSuchFileException e) {
                        // not in this queue (or moved on): look further
                    }
                }
            }
            if (m == null) {
                return o.fatal("open queue file " + id + ": No such file or directory", 1);
            }
            try (InputStream content = m.content()) {
                cat(m, path, content, zone, out, env, header, body);
            }
        }
        out.flush();
        return o.done(0);
    }

    private static void cat(QueueStore.QueuedMessage m, String path, InputStream content, ZoneId zone,
            OutputStream out, boolean env, boolean header, boolean body) throws IOException {
        Envelope.Extracted extracted = m.extracted();
        Envelope all = m.envelope();
        // the envelope segment alone, as written (its own sender and statuses); the extracted records, a filter's
        // sender change and recipient removals included, are shown after the content, where the file has them
        Envelope e = m instanceof FileQueueStore.FileMessage f ? f.recorded() : all.withoutExtracted(extracted);
        if (env) {
            StringBuilder sb = new StringBuilder();
            sb.append("*** ENVELOPE RECORDS ").append(path).append(" ***\n");
            long pending = all.recipients().stream().filter(r -> r.status() == Envelope.Status.PENDING).count();
            sb.append(String.format("message_size: %15d %15d %15d %15d %15d %15d%n", m.contentLength(),
                    QueueFileFormat.header(e).length, pending, 0, m.contentLength(),
                    e.mailParameters().containsKey("SMTPUTF8") ? 1 : 0));
            sb.append("message_arrival_time: ")
                    .append(ASCTIME.format(Instant.ofEpochSecond(e.arrivalMicros() / 1_000_000).atZone(zone)))
                    .append('\n');
            attr(sb, "client_name", e.client().name());
            attr(sb, "client_address", e.client().address());
            attr(sb, "helo_name", e.client().helo());
            attr(sb, "protocol_name", e.client().protocol());
            e.mailParameters().forEach((k, v) -> {
                switch (k) {
                    case "ENVID" -> sb.append("dsn_envelope_id: ").append(v).append('\n');
                    case "RET" -> sb.append("dsn_return_flags: ")
                            .append(v.equalsIgnoreCase("FULL") ? 1 : v.equalsIgnoreCase("HDRS") ? 2 : 0).append('\n');
                    default -> attr(sb, "estafeta_mail_parameter", k + (v.isEmpty() ? "" : "=" + v));
                }
            });
            actions(sb, e.actions());
            sb.append("sender: ").append(e.sender()).append('\n');
            recipients(sb, e.recipients());
            sb.append("*** MESSAGE CONTENTS ").append(path).append(" ***\n");
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
        if (header || body) {
            text(content, out, header, body);
        } else {
            content.transferTo(OutputStream.nullOutputStream()); // checks the CRC all the same
        }
        if (env) {
            // Postfix's postcat shows the extracted segment's records (FILTER, REDIRECT, BCC recipients) here; a
            // filter's sender change and recipient removals are among the actions, in file order (sender_changed_to:,
            // recipient_removed:)
            StringBuilder sb = new StringBuilder();
            sb.append("*** HEADER EXTRACTED ").append(path).append(" ***\n");
            actions(sb, extracted.actions());
            recipients(sb, extracted.recipients());
            sb.append("*** MESSAGE FILE END ").append(path).append(" ***\n");
            out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
        }
    }

    private static void actions(StringBuilder sb, List<Envelope.Action> actions) {
        for (Envelope.Action a : actions) {
            switch (a.name()) {
                case "filter" -> sb.append("content_filter: ").append(a.value()).append('\n');
                case "redirect" -> sb.append("redirect_to: ").append(a.value()).append('\n');
                case Envelope.Extracted.SENDER -> sb.append("sender_changed_to: ").append(a.value()).append('\n');
                case Envelope.Extracted.REMOVE -> sb.append("recipient_removed: ").append(a.value()).append('\n');
                default -> attr(sb, "estafeta_action_" + a.name(), a.value());
            }
        }
    }

    private static void recipients(StringBuilder sb, List<Envelope.Recipient> recipients) {
        for (Envelope.Recipient r : recipients) {
            r.originalRecipient().ifPresent(orcpt -> sb.append("dsn_original_recipient: ").append(orcpt)
                    .append('\n'));
            if (!r.notifyOn().isEmpty()) {
                sb.append("dsn_notify_flags: ").append(notifyMask(r.notifyOn())).append('\n');
            }
            sb.append(r.status() == Envelope.Status.DONE ? "done_recipient: " : "recipient: ")
                    .append(r.address()).append('\n');
        }
    }

    private static void attr(StringBuilder sb, String name, String value) {
        sb.append("named_attribute: ").append(name).append('=').append(value).append('\n');
    }

    /** Postfix's dsn_notify_flags bits: NEVER 1, SUCCESS 2, FAILURE 4, DELAY 8. */
    static int notifyMask(List<String> notify) {
        int mask = 0;
        for (String n : notify) {
            switch (n.toUpperCase(Locale.ROOT)) {
                case "NEVER" -> mask |= 1;
                case "SUCCESS" -> mask |= 2;
                case "FAILURE" -> mask |= 4;
                case "DELAY" -> mask |= 8;
                default -> {
                }
            }
        }
        return mask;
    }

    /** The content as lines without CR; the header is everything up to the first empty line. */
    private static void text(InputStream in, OutputStream out, boolean header, boolean body) throws IOException {
        byte[] buf = new byte[64 * 1024];
        java.io.ByteArrayOutputStream line = new java.io.ByteArrayOutputStream(1024);
        boolean inHeader = true;
        int n;
        while ((n = in.read(buf)) > 0) {
            for (int i = 0; i < n; i++) {
                byte b = buf[i];
                if (b != '\n') {
                    line.write(b);
                    if (line.size() >= 64 * 1024) { // a very long line: written through, as Postfix's continuation records
                        if (inHeader ? header : body) {
                            line.writeTo(out);
                        }
                        line.reset();
                    }
                    continue;
                }
                inHeader = endLine(line, out, inHeader, header, body);
            }
        }
        if (line.size() > 0) {
            endLine(line, out, inHeader, header, body);
        }
    }

    private static boolean endLine(java.io.ByteArrayOutputStream line, OutputStream out, boolean inHeader,
            boolean header, boolean body) throws IOException {
        byte[] l = line.toByteArray();
        int len = l.length > 0 && l[l.length - 1] == '\r' ? l.length - 1 : l.length;
        boolean blank = len == 0;
        boolean print = inHeader && !blank ? header : body;
        if (print) {
            out.write(l, 0, len);
            out.write('\n');
        }
        line.reset();
        return inHeader && !blank;
    }
}
