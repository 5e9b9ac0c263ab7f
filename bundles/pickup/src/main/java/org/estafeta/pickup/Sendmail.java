package org.estafeta.pickup;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;

/**
 * {@code estafeta sendmail}: Postfix's sendmail(1) for local submission. The message goes to the gateway over the
 * submission socket {@code $queue_directory/public/pickup}, where the gateway learns the user from the kernel and
 * writes {@code maildrop/}; when no gateway listens there, root writes {@code maildrop/} itself, and any other user
 * gets {@code EX_TEMPFAIL}. docs/local-submission.md. Exit codes and messages as Postfix's sendmail
 * ({@code sendmail: fatal: user(uid): ...}).
 */
public final class Sendmail {
    /** Bytes of header section kept in memory ({@code -t} needs all of it before the envelope is sent). */
    static final int HEADER_LIMIT = 1024 * 1024;

    /** Finds {@code queue_directory} for a configuration directory ({@code -C}), or the default one. */
    @FunctionalInterface
    public interface QueueLocator {
        Path queueDirectory(Optional<Path> configDirectory) throws Exception;
    }

    private final PrintStream err;
    private final String user;
    private final long uid;

    Sendmail(PrintStream err, String user, long uid) {
        this.err = err;
        this.user = user;
        this.uid = uid;
    }

    /** Runs the command; returns the exit code (0 once the message is durable in the queue). */
    public static int run(List<String> args, QueueLocator locator, InputStream in, PrintStream err) {
        long uid;
        try {
            uid = ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
        } catch (IOException | RuntimeException e) {
            err.println("sendmail: fatal: cannot find the user ID of this process: " + e.getMessage());
            return SendmailOptions.EX_OSERR;
        }
        return new Sendmail(err, System.getProperty("user.name"), uid).submit(args, locator, in);
    }

    int submit(List<String> args, QueueLocator locator, InputStream stdin) {
        SendmailOptions o;
        try {
            o = SendmailOptions.parse(args);
        } catch (SendmailOptions.UsageException e) {
            return fatal(e.exit(), e.getMessage());
        }
        o.warnings().forEach(w -> err.println("sendmail: warning: " + w));
        String sender = user;
        if (o.sender().isPresent()) {
            List<String> s = Addresses.parse(o.sender().get());
            if (s.size() > 1) {
                err.println("sendmail: warning: -f option specified malformed sender: " + o.sender().get());
            }
            sender = s.isEmpty() ? "" : s.get(0);
        }
        String who = sender + "(" + uid + ")";
        Path queue;
        try {
            queue = locator.queueDirectory(o.configDirectory().map(Path::of)
                    .map(p -> p.getFileName() != null && p.getFileName().toString().equals("main.cf") ? p.getParent() : p));
        } catch (Exception e) {
            return fatal(SendmailOptions.EX_TEMPFAIL, e.getMessage());
        }
        MessageInput input = new MessageInput(new BufferedInputStream(stdin, 64 * 1024), o.dotEnds(), HEADER_LIMIT);
        MessageInput.Header header;
        try {
            header = input.readHeader();
        } catch (IOException e) {
            return fatal(SendmailOptions.EX_DATAERR, who + ": error reading input: " + e.getMessage());
        }
        if (o.extractRecipients() && header.truncated()) {
            return fatal(SendmailOptions.EX_DATAERR,
                    who + ": unable to extract recipients: message header length exceeds safety limit");
        }
        List<Maildrop.Recipient> rcpts = new ArrayList<>();
        List<String> all = new ArrayList<>();
        for (String arg : o.recipients()) {
            all.addAll(Addresses.parse(arg));
        }
        if (o.extractRecipients()) {
            all.addAll(header.extracted());
        }
        for (String a : all) {
            if (!a.isEmpty()) {
                rcpts.add(new Maildrop.Recipient(a, o.notifyOn()));
            }
        }
        if (rcpts.isEmpty()) {
            return fatal(SendmailOptions.EX_USAGE, who + (o.extractRecipients()
                    ? ": No recipient addresses found in message header"
                    : ": Recipient addresses must be specified on the command line or via the -t option"));
        }
        Map<String, String> params = new LinkedHashMap<>();
        o.body().ifPresent(v -> params.put("BODY", v));
        o.ret().ifPresent(v -> params.put("RET", v));
        o.envid().ifPresent(v -> params.put("ENVID", v));
        String fullName = o.fullName().orElseGet(() -> fullName(user));
        Path socket = Maildrop.socket(queue);
        if (Files.exists(socket) || uid != 0) {
            try {
                return viaSocket(socket, o.sender().isPresent() ? Optional.of(sender) : Optional.empty(), fullName,
                        params, rcpts, header, input, who);
            } catch (java.net.ConnectException | java.nio.file.NoSuchFileException e) {
                if (uid != 0) {
                    return fatal(SendmailOptions.EX_TEMPFAIL, who + ": unable to connect to the mail system: " + socket
                            + ": " + (e.getMessage() == null ? "Connection refused" : e.getMessage())
                            + " (the gateway's pickup service is not running)");
                }
                // root: the gateway is down; write maildrop/ directly (below)
            } catch (IOException e) {
                return fatal(SendmailOptions.EX_TEMPFAIL, who + ": error writing queue file: " + e.getMessage());
            }
        }
        return direct(queue, sender, fullName, params, rcpts, header, input, who);
    }

    /** Streams the envelope and the message to the gateway's submission socket. */
    private int viaSocket(Path socket, Optional<String> sender, String fullName, Map<String, String> params,
            List<Maildrop.Recipient> rcpts, MessageInput.Header header, MessageInput input, String who)
            throws IOException {
        if (!Files.exists(socket)) {
            throw new java.nio.file.NoSuchFileException(socket.toString(), null, "No such file or directory");
        }
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(socket));
            OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 64 * 1024);
            SubmitProtocol.writeLine(out, SubmitProtocol.MAGIC);
            if (sender.isPresent()) {
                SubmitProtocol.writeLine(out, "sender " + xtext(sender.get()));
            }
            if (!fullName.isEmpty()) {
                SubmitProtocol.writeLine(out, "fullname " + xtext(fullName));
            }
            for (var p : params.entrySet()) {
                SubmitProtocol.writeLine(out, "param " + xtext(p.getKey()) + " " + xtext(p.getValue()));
            }
            for (Maildrop.Recipient r : rcpts) {
                SubmitProtocol.writeLine(out, "rcpt " + xtext(r.address()) + " " + xtext(String.join(",", r.notifyOn())));
            }
            SubmitProtocol.writeLine(out, SubmitProtocol.DATA);
            SubmitProtocol.ChunkedOutput data = new SubmitProtocol.ChunkedOutput(out);
            try {
                data.write(header.bytes());
                input.copyBody(data);
            } catch (IOException e) {
                // the gateway may have refused early: its answer says why
                String answer = answer(ch);
                if (answer != null) {
                    return result(answer, who);
                }
                throw e;
            }
            data.close();
            String answer = answer(ch);
            if (answer == null) {
                throw new IOException("the mail system closed the connection without an answer");
            }
            return result(answer, who);
        }
    }

    private static String answer(SocketChannel ch) {
        try {
            return SubmitProtocol.readLine(Channels.newInputStream(ch));
        } catch (IOException e) {
            return null;
        }
    }

    private int result(String answer, String who) {
        if (answer.startsWith("ok ")) {
            return SendmailOptions.EX_OK;
        }
        String[] p = answer.split(" ", 3);
        if (p.length == 3 && p[0].equals("error") && p[1].matches("\\d{1,3}")) {
            return fatal(Integer.parseInt(p[1]), who + ": " + p[2]);
        }
        return fatal(SendmailOptions.EX_SOFTWARE, who + ": unexpected answer from the mail system: " + answer);
    }

    /**
     * Root with no gateway listening: writes the maildrop file itself (tmp/, fsync, rename), owned by the owner of
     * {@code maildrop/} so that the gateway user can remove it once picked up.
     */
    private int direct(Path queue, String sender, String fullName, Map<String, String> params,
            List<Maildrop.Recipient> rcpts, MessageInput.Header header, MessageInput input, String who) {
        Path maildrop = queue.resolve(QueueName.MAILDROP.directory());
        if (!Files.isDirectory(maildrop) || !Files.isDirectory(queue.resolve(FileQueueStore.WORK_DIRECTORY))) {
            return fatal(SendmailOptions.EX_TEMPFAIL, who + ": " + maildrop
                    + ": No such file or directory (start the gateway once to create the queue)");
        }
        QueueStore.Writer w = null;
        try {
            FileQueueStore store = new FileQueueStore(queue);
            java.time.Instant now = java.time.Instant.now();
            w = store.create(Maildrop.envelope(now.getEpochSecond() * 1_000_000 + now.getNano() / 1_000, sender, params,
                    rcpts, uid, fullName));
            QueueStore.Writer writer = w;
            OutputStream out = new OutputStream() {
                @Override
                public void write(int b) throws IOException {
                    write(new byte[] {(byte) b}, 0, 1);
                }

                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    writer.write(b, off, len);
                }
            };
            out.write(header.bytes());
            input.copyBody(out);
            w.commit(QueueName.MAILDROP);
            Path file = maildrop.resolve(w.id());
            Files.setOwner(file, Files.getOwner(maildrop));
            return SendmailOptions.EX_OK;
        } catch (IOException e) {
            if (w != null) {
                w.abort();
            }
            return fatal(SendmailOptions.EX_TEMPFAIL, who + ": error writing queue file: " + e.getMessage());
        }
    }

    /**
     * Postfix's fullname(): {@code $NAME}, else the GECOS field of the user's passwd entry up to the first
     * {@code ,;%}, with {@code &} replaced by the login name capitalised; empty when neither is there.
     */
    static String fullName(String user) {
        String env = System.getenv("NAME");
        if (env != null) {
            return env;
        }
        return Passwd.lookup(user).map(p -> gecosName(p.gecos(), user)).orElse("");
    }

    static String gecosName(String gecos, String login) {
        StringBuilder sb = new StringBuilder();
        for (char c : gecos.toCharArray()) {
            if (c == ',' || c == ';' || c == '%') {
                break;
            }
            if (c == '&') {
                if (!login.isEmpty()) {
                    sb.append(Character.toUpperCase(login.charAt(0))).append(login, 1, login.length());
                }
            } else {
                sb.append(c);
            }
        }
        return sb.toString();
    }

    private static String xtext(String s) {
        return org.estafeta.queue.QueueFileFormat.xtext(s);
    }

    private int fatal(int exit, String message) {
        err.println("sendmail: fatal: " + message);
        err.flush();
        return exit;
    }
}
