package org.estafeta.smtpd;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * One SMTP session: the state of one client connection, driven by the lines {@link SmtpLineDecoder} delivers.
 * Everything runs on the connection's event loop and nothing here blocks.
 *
 * <p>This first version greets, answers HELO, EHLO, NOOP, RSET and QUIT, and refuses every mail command with a
 * 4xx reply, so no mail is accepted and none can be lost. Replies and log lines are Postfix's. The structure is the
 * one the full server grows into: {@link Phase} gains the mail transaction, DATA/BDAT and the STARTTLS/AUTH
 * exchanges; the command switch in {@link #execute} gains their handlers; the pipeline gains TLS in front of the
 * decoder.
 */
final class SmtpSession extends ChannelInboundHandlerAdapter {
    /** The reply to the commands whose implementation comes with the SMTP issue. */
    static final String NOT_AVAILABLE_YET = "451 4.3.2 Error: mail acceptance is not available yet";

    /** Postfix's name for the client when the reverse lookup is not done (DNS comes later). */
    static final String UNKNOWN_HOST = "unknown";

    enum Phase {
        /** Reading commands. */
        COMMANDS,
        /** A final reply is on its way and the connection closes after it; input is ignored. */
        CLOSING
    }

    /** Reasons for losing the client, as Postfix's smtpd logs them ({@code <reason> after <where> from ...}). */
    static final String REASON_TIMEOUT = "timeout";
    static final String REASON_LOST_CONNECTION = "lost connection";

    private final SmtpdSettings settings;
    private final SmtpdLog log;

    private final int[] success = new int[SmtpCommand.values().length];
    private final int[] total = new int[SmtpCommand.values().length];

    private String namaddr = UNKNOWN_HOST + "[unknown]";
    private Phase phase = Phase.COMMANDS;
    /** The last recognized command (Postfix's state->where), for the {@code ... after X from} line. */
    private String where = "CONNECT";
    private String reason;
    private boolean closedByServer;
    private boolean flushPending;
    private int errorCount;
    /** The HELO/EHLO argument; null before HELO/EHLO. */
    private String heloName;
    /** SMTP after HELO, ESMTP after EHLO. */
    private String protocol = "SMTP";

    SmtpSession(SmtpdSettings settings, SmtpdLog log) {
        this.settings = settings;
        this.log = log;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        namaddr = UNKNOWN_HOST + "[" + clientAddress(ctx.channel().remoteAddress()) + "]";
        log.info("connect from " + namaddr);
        write(ctx, "220 " + settings.banner());
        flush(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof SmtpInput input)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (phase == Phase.CLOSING) {
            return;
        }
        if (input instanceof SmtpInput.Line line) {
            command(ctx, line.text());
        } else if (input instanceof SmtpInput.OverlongLine overlong) {
            log.warn(namaddr + ": request longer than " + settings.lineLengthLimit() + ": " + printable(overlong.start()) + "...");
            // Current Postfix (3.12) answers an overlong command; 3.7 executed its first line_length_limit bytes.
            write(ctx, "500 5.5.2 " + settings.myhostname() + " Error: command too long");
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        flush(ctx);
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        // A client that sends commands but does not read the replies: stop reading until it catches up, so that
        // the replies waiting for it stay bounded. If it never does, smtpd_timeout ends the session.
        if (phase == Phase.COMMANDS) {
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE) {
            if (phase == Phase.COMMANDS) {
                reason = REASON_TIMEOUT;
                closeWith(ctx, "421 4.4.2 " + settings.myhostname() + " Error: timeout exceeded");
            }
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof IOException) {
            // The client reset the connection: channelInactive logs "lost connection after ...".
            ctx.close();
            return;
        }
        log.warn(namaddr + ": unexpected error: " + cause);
        if (phase == Phase.COMMANDS) {
            closeWith(ctx, "421 4.3.0 " + settings.myhostname() + " Server local error");
        } else {
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        phase = Phase.CLOSING;
        if (reason == null && !closedByServer) {
            reason = REASON_LOST_CONNECTION;
        }
        if (reason != null) {
            log.info(reason + " after " + where + " from " + namaddr);
        }
        log.info("disconnect from " + namaddr + counters());
        ctx.fireChannelInactive();
    }

    private void command(ChannelHandlerContext ctx, String received) {
        // Postfix handles the line as a C string: a NUL ends it.
        int nul = received.indexOf('\0');
        String line = nul >= 0 ? received.substring(0, nul) : received;
        List<String> argv = tokens(line);
        if (argv.isEmpty()) {
            where = "UNKNOWN";
            total[SmtpCommand.UNKNOWN.ordinal()]++;
            errorCount++;
            write(ctx, "500 5.5.2 Error: bad syntax");
            return;
        }
        SmtpCommand command = SmtpCommand.of(argv.get(0));
        total[command.ordinal()]++;
        if (command == SmtpCommand.UNKNOWN) {
            where = "UNKNOWN";
            if (isHeader(argv.get(0)) || forbiddenByDefault(argv.get(0))) {
                // A web browser, an HTTP proxy client or a message sent without the SMTP dialogue: hang up.
                String text = escape(received);
                log.warn("non-SMTP command from " + namaddr + ": " + (text.length() > 100 ? text.substring(0, 100) : text));
                closeWith(ctx, "221 2.7.0 Error: I can break rules, too. Goodbye.");
                return;
            }
            errorCount++;
            write(ctx, "500 5.5.2 Error: command not recognized");
            return;
        }
        where = command.name();
        if (execute(ctx, command, argv)) {
            success[command.ordinal()]++;
        } else {
            errorCount++;
        }
    }

    /** Runs one recognized command; true if it succeeded (Postfix counts success and total separately). */
    private boolean execute(ChannelHandlerContext ctx, SmtpCommand command, List<String> argv) {
        switch (command) {
            case HELO:
                return helo(ctx, argv, false);
            case EHLO:
                return helo(ctx, argv, true);
            case NOOP:
                write(ctx, "250 2.0.0 Ok");
                return true;
            case RSET:
                if (argv.size() != 1) {
                    write(ctx, "501 5.5.4 Syntax: RSET");
                    return false;
                }
                write(ctx, "250 2.0.0 Ok");
                return true;
            case QUIT:
                closeWith(ctx, "221 2.0.0 Bye");
                return true;
            case XCLIENT:
            case XFORWARD:
                // What Postfix answers every client not listed in smtpd_authorized_xclient/xforward_hosts (empty by default).
                write(ctx, "550 5.7.0 Error: insufficient authorization");
                return false;
            case MAIL:
            case RCPT:
            case DATA:
            case BDAT:
            case VRFY:
            case ETRN:
            case STARTTLS:
            case AUTH:
                // Not advertised in EHLO; a temporary refusal, so a client keeps its mail and tries again later.
                write(ctx, NOT_AVAILABLE_YET);
                return false;
            default:
                throw new IllegalStateException("no handler for " + command);
        }
    }

    private boolean helo(ChannelHandlerContext ctx, List<String> argv, boolean extended) {
        if (argv.size() < 2) {
            write(ctx, extended ? "501 Syntax: EHLO hostname" : "501 Syntax: HELO hostname");
            return false;
        }
        heloName = printable(String.join(" ", argv.subList(1, argv.size())));
        protocol = extended ? "ESMTP" : "SMTP";
        if (!extended) {
            write(ctx, "250 " + settings.myhostname());
            return true;
        }
        List<String> lines = new ArrayList<>();
        lines.add(settings.myhostname());
        lines.addAll(extensions());
        StringBuilder reply = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            if (i > 0) {
                reply.append("\r\n");
            }
            reply.append("250").append(i == lines.size() - 1 ? ' ' : '-').append(lines.get(i));
        }
        write(ctx, reply.toString());
        return true;
    }

    /** The EHLO keywords: only what this server really does. Every reply here carries an enhanced status code. */
    private static List<String> extensions() {
        return List.of("ENHANCEDSTATUSCODES");
    }

    /**
     * Postfix's default {@code smtpd_forbid_cmds = CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}}: HTTP verbs, and a
     * verb that does not start with a letter. (The parameter itself, which may name tables, comes with the tables.)
     */
    static boolean forbiddenByDefault(String verb) {
        char first = verb.charAt(0);
        boolean letter = (first >= 'A' && first <= 'Z') || (first >= 'a' && first <= 'z');
        return !letter || verb.equalsIgnoreCase("CONNECT") || verb.equalsIgnoreCase("GET") || verb.equalsIgnoreCase("POST");
    }

    /** Postfix's is_header() on a verb: printable ASCII characters, then a colon (a message header line). */
    static boolean isHeader(String token) {
        int colon = token.indexOf(':');
        if (colon <= 0) {
            return false;
        }
        for (int i = 0; i < colon; i++) {
            char c = token.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** Postfix's escape(): printable ASCII as is (backslash doubled), C escapes for the rest, octal otherwise. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case 0x07 -> sb.append("\\a");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case 0x0b -> sb.append("\\v");
                default -> {
                    if (c >= 0x20 && c < 0x7f) {
                        sb.append(c);
                    } else {
                        sb.append('\\').append(String.format("%03o", c & 0xff));
                    }
                }
            }
        }
        return sb.toString();
    }

    /** Splits a command line on spaces and tabs, as Postfix's smtpd_token() does for commands without quoting. */
    static List<String> tokens(String line) {
        List<String> argv = new ArrayList<>();
        int i = 0;
        int n = line.length();
        while (i < n) {
            while (i < n && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
                i++;
            }
            int start = i;
            while (i < n && line.charAt(i) != ' ' && line.charAt(i) != '\t') {
                i++;
            }
            if (i > start) {
                argv.add(line.substring(start, i));
            }
        }
        return argv;
    }

    /** {@code " ehlo=1 quit=1 commands=2"}: Postfix 3's per-command counters, {@code success/total} when they differ. */
    String counters() {
        StringBuilder sb = new StringBuilder();
        int allSuccess = 0;
        int allTotal = 0;
        for (SmtpCommand command : SmtpCommand.values()) {
            int t = total[command.ordinal()];
            if (t == 0) {
                continue;
            }
            int s = success[command.ordinal()];
            sb.append(' ').append(command.counterName()).append('=').append(s);
            if (s != t) {
                sb.append('/').append(t);
            }
            allSuccess += s;
            allTotal += t;
        }
        sb.append(" commands=").append(allSuccess);
        if (allSuccess != allTotal || allTotal == 0) {
            sb.append('/').append(allTotal);
        }
        return sb.toString();
    }

    int errorCount() {
        return errorCount;
    }

    String heloName() {
        return heloName;
    }

    String protocol() {
        return protocol;
    }

    private void write(ChannelHandlerContext ctx, String reply) {
        byte[] bytes = (reply + "\r\n").getBytes(StandardCharsets.UTF_8);
        ByteBuf buf = ctx.alloc().buffer(bytes.length).writeBytes(bytes);
        ctx.write(buf, ctx.voidPromise());
        flushPending = true;
    }

    private void flush(ChannelHandlerContext ctx) {
        if (flushPending) {
            flushPending = false;
            ctx.flush();
        }
    }

    /** Sends a last reply (with whatever is still unflushed before it) and closes once it is written. */
    private void closeWith(ChannelHandlerContext ctx, String reply) {
        phase = Phase.CLOSING;
        closedByServer = true;
        ctx.channel().config().setAutoRead(false);
        byte[] bytes = (reply + "\r\n").getBytes(StandardCharsets.UTF_8);
        flushPending = false;
        ctx.writeAndFlush(ctx.alloc().buffer(bytes.length).writeBytes(bytes)).addListener(ChannelFutureListener.CLOSE);
    }

    private static String clientAddress(SocketAddress address) {
        if (address instanceof InetSocketAddress isa && isa.getAddress() != null) {
            return Addresses.text(isa.getAddress());
        }
        return String.valueOf(address);
    }

    /** Postfix's printable(): anything but printable ASCII becomes '?'. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(c >= 0x20 && c < 0x7f ? c : '?');
        }
        return sb.toString();
    }
}
