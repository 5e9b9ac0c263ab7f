package org.estafeta.smtpd;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Reply;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslStep;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.dns.ClientName;
import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.Outcome;
import org.estafeta.restrictions.Decision;
import org.estafeta.restrictions.RestrictionEngine;
import org.estafeta.restrictions.SessionFacts;
import org.estafeta.tls.ServerTls;
import org.estafeta.tls.TlsPolicy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;

/**
 * One SMTP session: the state of one client connection, driven by what {@link SmtpLineDecoder} delivers, with
 * Postfix's smtpd semantics and reply texts (smtpd.c). Everything runs on the connection's event loop and nothing
 * here blocks: DNS, restrictions and Cleanup complete asynchronously, and while a command waits the decoder is
 * paused, so commands are answered one at a time and in order, as Postfix's one-process-per-client loop does.
 *
 * <p>The state machine: {@link Phase#CONNECTING} (names being resolved, nothing read yet), {@link Phase#COMMANDS},
 * {@link Phase#CLOSING}. Within COMMANDS, the mail transaction (sender, recipients, BDAT state) and the content
 * phases (DATA/BDAT, the decoder's modes). STARTTLS and AUTH have their own methods ({@link #starttls},
 * {@link #auth}), where the TLS/SASL issue plugs in: a TLS handler in front of the decoder, and a SASL exchange
 * that reads lines like a command does.
 *
 * <p>Without a restriction engine, the lists are not evaluated, except that a recipient is accepted only from a
 * client in {@code mynetworks} (Postfix's default {@code smtpd_relay_restrictions} start with
 * {@code permit_mynetworks}); others get {@code 451 4.3.5 Server configuration error}, so a missing bundle never
 * makes an open relay.
 */
final class SmtpSession extends ChannelInboundHandlerAdapter {
    /** Postfix's name for a client whose name is not known. */
    static final String UNKNOWN_HOST = "unknown";

    enum Phase {
        /** Connected; the client's names are being looked up, nothing is read yet. */
        CONNECTING,
        /** Reading commands (and message content). */
        COMMANDS,
        /** A final reply is on its way and the connection closes after it; input is ignored. */
        CLOSING
    }

    static final String REASON_TIMEOUT = "timeout";
    static final String REASON_LOST_CONNECTION = "lost connection";
    static final String REASON_ERROR_LIMIT = "too many errors";
    /** Postfix's state->where while message content is read, and after it. */
    static final String AFTER_DATA = "DATA content";
    static final String AFTER_BDAT = "BDAT content";
    static final String AFTER_EOM = "END-OF-MESSAGE";

    private static final String QUEUE_WRITE_ERROR = "451 4.3.0 Error: queue file write error";

    private final SmtpdSettings settings;
    private final SmtpdLog log;
    private final ConfigSnapshot config;
    private final SmtpdServices services;
    private final ClientLimits limits;
    private final SmtpdTls starttls;
    private final SmtpdSasl sasl;
    /** The dialogue for notify_classes' postmaster notices. */
    private final SessionTranscript transcript;
    /** AUTH commands per client address (smtpd_client_auth_rate_limit), shared by the instance; null: no limit. */
    private final ClientLimits authLimits;
    /** The mechanisms the last EHLO announced (null: AUTH not announced or not known yet). */
    private List<String> saslMechanisms;
    /** The AUTH exchange in progress: the next line is a response, not a command. Null otherwise. */
    private SaslInProgress saslExchange;
    /** A 334 challenge went out and the client's response has not come: smtpd_timeout applies. */
    private boolean awaitingSaslResponse;
    /** Set after AUTH succeeded (235): Postfix's sasl_method and sasl_username. */
    private String saslMethod;
    private String saslUsername;
    /** MAIL FROM's AUTH= parameter, as Postfix's sasl_sender (null when absent or <>). */
    private String saslSender;
    /** STARTTLS completed: the rest of the session is encrypted. */
    private boolean tlsActive;

    private final int[] success = new int[SmtpCommand.values().length];
    private final int[] total = new int[SmtpCommand.values().length];

    private ChannelHandlerContext ctx;
    private SmtpLineDecoder decoder;
    private InetAddress clientAddress;
    private String addr = "unknown";
    private int port;
    private ClientName names;
    private String namaddr = UNKNOWN_HOST + "[unknown]";
    private Phase phase = Phase.CONNECTING;
    private String where = "CONNECT";
    private String reason;
    private boolean closedByServer;
    private boolean flushPending;
    private int errorCount;
    private int junkCommands;
    private boolean illPipelining;
    private boolean countedConnection;
    private String accessDenied;
    private String heloName;
    private String protocol = "SMTP";

    /** A command is being answered asynchronously (or its content is being read); no new command until it ends. */
    private boolean commandPending;
    /** Replies held back by smtpd_error_sleep_time; written, in order, when the delay ends. */
    private final ArrayDeque<DelayedReply> delayedReplies = new ArrayDeque<>();
    private boolean delaying;
    private boolean closeAfterDelay;

    // ---- the mail transaction ----
    private String sender;
    private Map<String, String> mailParameters = Map.of();
    private boolean smtputf8;
    private final List<Submission.Recipient> recipients = new ArrayList<>();
    private String lastRecipient;
    private int rcptOvershoot;
    private Submission.Actions actions = Submission.Actions.NONE;
    private Optional<Reply> deferIfPermit = Optional.empty();
    private CleanupPipe pipe;
    /** A filter refused the session with a 5xx at CONNECT or HELO: MAIL gets its reply, EHLO announces little. */
    private boolean filterRejectedSession;
    /** The content filters following this session (docs/content-filters.md), or null when the service has none. */
    private org.estafeta.cleanup.FilterChannel filters;
    /** BDAT: the transaction is in BDAT mode (Postfix's SMTPD_PROCESSING_BDAT). */
    private boolean bdat;
    /** BDAT: an earlier chunk failed; skip chunks until LAST or RSET. */
    private boolean bdatError;
    /** The chunk being read is skipped, with this reply at its end; null when it is kept. */
    private String skipReply;
    private boolean skipLast;
    private long chunkSize;
    private boolean chunkLast;

    SmtpSession(SmtpdSettings settings, SmtpdLog log) {
        this(settings, log, null, SmtpdServices.NONE, null);
    }

    SmtpSession(SmtpdSettings settings, SmtpdLog log, ConfigSnapshot config, SmtpdServices services, ClientLimits limits) {
        this(settings, log, config, services, limits, SmtpdTls.OFF);
    }

    SmtpSession(SmtpdSettings settings, SmtpdLog log, ConfigSnapshot config, SmtpdServices services, ClientLimits limits,
            SmtpdTls starttls) {
        this(settings, log, config, services, limits, starttls, SmtpdSasl.OFF, null);
    }

    SmtpSession(SmtpdSettings settings, SmtpdLog log, ConfigSnapshot config, SmtpdServices services, ClientLimits limits,
            SmtpdTls starttls, SmtpdSasl sasl, ClientLimits authLimits) {
        this.sasl = sasl;
        this.authLimits = authLimits;
        this.transcript = SessionTranscript.from(config);
        this.starttls = starttls;
        this.settings = settings;
        this.log = log;
        this.config = config;
        this.services = services;
        this.limits = limits;
    }

    // ------------------------------------------------------------------------------------------------ connection

    @Override
    public void channelActive(ChannelHandlerContext context) {
        ctx = context;
        decoder = ctx.pipeline().get(SmtpLineDecoder.class);
        SocketAddress remote = ctx.channel().remoteAddress();
        if (remote instanceof InetSocketAddress isa && isa.getAddress() != null) {
            clientAddress = isa.getAddress();
            addr = Addresses.text(clientAddress);
            port = isa.getPort();
        } else {
            addr = String.valueOf(remote);
        }
        namaddr = UNKNOWN_HOST + "[" + addr + "]";
        if (decoder != null) {
            decoder.pause(); // nothing is read as a command before the greeting
            decoder.detectBareLf(settings.bareNewline() != SmtpdSettings.BareNewline.NO
                    && !settings.bareNewlineExclusions().contains(clientAddress));
        }
        DnsResolver dns = services.dns();
        if (dns != null && clientAddress != null && settings.peernameLookup()) {
            CompletionStage<ClientName> lookup;
            try {
                lookup = dns.clientName(clientAddress);
            } catch (RuntimeException e) {
                lookup = CompletableFuture.failedFuture(e);
            }
            lookup.whenCompleteAsync((name, error) -> connected(error == null ? name : null), ctx.executor());
        } else {
            connected(null);
        }
        ctx.fireChannelActive();
    }

    /** The names are known (or not): Postfix's smtpd_proto() from the connect log line to the greeting. */
    private void connected(ClientName name) {
        if (phase != Phase.CONNECTING) {
            return;
        }
        names = name;
        namaddr = clientName() + "[" + addr + "]";
        phase = Phase.COMMANDS;
        log.info("connect from " + namaddr);
        // A client that talks before the greeting.
        if (decoder != null && decoder.buffered() > 0 && flagIllPipelining() && settings.forbidUnauthPipelining()) {
            closeWith("554 5.5.0 Error: SMTP protocol synchronization");
            return;
        }
        if (limits != null && clientAddress != null && !settings.eventLimitExceptions().contains(clientAddress)) {
            countedConnection = true;
            ClientLimits.Counts counts = limits.connect(addr, System.nanoTime());
            if (settings.connectionCountLimit() > 0 && counts.count() > settings.connectionCountLimit()) {
                log.warn("Connection concurrency limit exceeded: " + counts.count() + " from " + namaddr
                        + " for service " + serviceName());
                closeWith("421 4.7.0 " + settings.myhostname() + " Error: too many connections from " + addr);
                return;
            }
            if (settings.connectionRateLimit() > 0 && counts.rate() > settings.connectionRateLimit()) {
                log.warn("Connection rate limit exceeded: " + counts.rate() + " from " + namaddr + " for service "
                        + serviceName());
                closeWith("421 4.7.0 " + settings.myhostname() + " Error: too many connections from " + addr);
                return;
            }
        }
        Cleanup cleanup = services.cleanup();
        if (cleanup != null && config != null) {
            filters = cleanup.filters(config).orElse(null);
        }
        if (!settings.delayReject()) {
            commandPending = true;
            evaluate(RestrictionEngine.CLIENT, "CONNECT", null).whenCompleteAsync((decision, e) -> {
                commandPending = false;
                if (phase != Phase.COMMANDS) {
                    return;
                }
                if (decision != null && decision.refused()) {
                    accessDenied = decision.reply().orElseThrow().toString();
                    reply(accessDenied);
                    errorCount++;
                    flush();
                    resumeLater();
                } else {
                    greet();
                }
            }, ctx.executor());
            return;
        }
        greet();
    }

    /**
     * The greeting, once the filters heard of the client, as Postfix's smtpd after a milter's CONNECT reply: a 5xx
     * makes it {@code 554 HOST ESMTP not accepting connections} (the session goes on: HELO and EHLO are answered, the
     * filter's own reply comes at MAIL FROM), a 421 is {@code 421 HOST Service unavailable - try again later} and
     * the connection is closed, any other 4xx leaves the {@code 220} greeting alone.
     */
    private void greet() {
        commandPending = true;
        askFilters("CONNECT", f -> f.connect(clientInfo()), refusal -> {
            commandPending = false;
            if (refusal != null && refusal.reply().code() == 421) {
                closeWith("421 " + settings.myhostname() + " Service unavailable - try again later");
                return;
            }
            if (refusal != null && refusal.reply().isPermanent()) {
                filterRejectedSession = true;
                reply("554 " + settings.myhostname() + " ESMTP not accepting connections");
                errorCount++;
            } else {
                reply("220 " + settings.banner());
            }
            flush();
            resumeLater();
        });
    }

    /**
     * Answers a filter's refusal of {@code command} (a 421 closes the connection, as Postfix does with a milter's
     * shutdown); false when there is none and the command goes on.
     */
    private boolean refused(org.estafeta.cleanup.FilterChannel.Refusal refusal, SmtpCommand command) {
        if (refusal == null) {
            return false;
        }
        if (refusal.reply().code() == 421) {
            closeWith(refusal.reply().toString());
            return true;
        }
        reply(refusal.reply().toString());
        done(command, false);
        flush();
        return true;
    }

    /**
     * Tells the session's filters of a command the gateway accepted, on the worker pool (filters may block), and goes
     * on with their refusal (null: none) on the event loop; nothing happens if the session ended meanwhile. A refusal
     * is logged as Postfix logs a milter's: {@code NOQUEUE: milter-reject: RCPT from host[addr]: 550 ...; from=<..>
     * to=<..> proto=ESMTP helo=<..>}.
     */
    private void askFilters(String stage, java.util.function.Function<org.estafeta.cleanup.FilterChannel,
            Optional<org.estafeta.cleanup.FilterChannel.Refusal>> event,
            java.util.function.Consumer<org.estafeta.cleanup.FilterChannel.Refusal> then) {
        org.estafeta.cleanup.FilterChannel f = filters;
        if (f == null) {
            then.accept(null);
            return;
        }
        CompletableFuture.supplyAsync(() -> event.apply(f).orElse(null), services.workers())
                .whenCompleteAsync((refusal, e) -> {
                    if (phase != Phase.COMMANDS) {
                        return;
                    }
                    org.estafeta.cleanup.FilterChannel.Refusal r = refusal;
                    if (e != null) {
                        log.warn(namaddr + ": content filters failed at " + stage + ": " + e);
                        r = new org.estafeta.cleanup.FilterChannel.Refusal(
                                Reply.tempfail(451, "4.3.0", "Error: content filter temporarily unavailable"), "", false);
                    }
                    if (r != null) {
                        String saved = where;
                        where = stage;
                        logWhatsup("milter-reject", r.reply().toString());
                        where = saved;
                    }
                    then.accept(r);
                }, ctx.executor());
    }

    private String clientName() {
        return names != null && names.isVerified() ? names.name() : UNKNOWN_HOST;
    }

    private String serviceName() {
        return config != null ? config.get("service_name").orElse("smtp") : "smtp";
    }

    @Override
    public void channelRead(ChannelHandlerContext context, Object msg) {
        if (!(msg instanceof SmtpInput input)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (phase != Phase.COMMANDS) {
            return;
        }
        if (saslExchange != null && !(input instanceof SmtpInput.Line || input instanceof SmtpInput.OverlongLine)) {
            return;
        }
        if (saslExchange != null && input instanceof SmtpInput.Line line) {
            transcript.in("(AUTH response not shown)");
            saslResponse(line.text());
        } else if (saslExchange != null) {
            // Postfix's smtpd_chat_query_limit() with smtpd_sasl_response_limit
            saslEnd(false, "500 5.5.6 SASL response limit exceeded");
        } else if (input instanceof SmtpInput.Line line) {
            line(line);
        } else if (input instanceof SmtpInput.OverlongLine overlong) {
            log.warn(namaddr + ": request longer than " + settings.lineLengthLimit() + ": " + printable(overlong.start()) + "...");
            // Current Postfix (3.12) answers an overlong command; 3.7 executed its first line_length_limit bytes.
            reply("500 5.5.2 " + settings.myhostname() + " Error: command too long");
        } else if (input instanceof SmtpInput.Content content) {
            content(content);
        } else if (input instanceof SmtpInput.ContentEnd end) {
            contentEnd(end);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext context) {
        flush();
        context.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext context) {
        // A client that sends commands but does not read the replies: stop reading until it catches up, so that
        // the replies waiting for it stay bounded. If it never does, smtpd_timeout ends the session.
        updateReading();
        context.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext context, Object event) {
        if (event instanceof IdleStateEvent idle && idle.state() == IdleState.READER_IDLE) {
            if (phase != Phase.CLOSING && !(commandPending && !contentPhase() && !awaitingSaslResponse)) {
                reason = REASON_TIMEOUT;
                closeWith("421 4.4.2 " + settings.myhostname() + " Error: timeout exceeded");
            }
            return;
        }
        context.fireUserEventTriggered(event);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext context, Throwable cause) {
        if (cause instanceof IOException || cause.getCause() instanceof javax.net.ssl.SSLException) {
            // The client reset the connection: channelInactive logs "lost connection after ...".
            context.close();
            return;
        }
        log.warn(namaddr + ": unexpected error: " + cause);
        if (phase == Phase.COMMANDS) {
            closeWith("421 4.3.0 " + settings.myhostname() + " Server local error");
        } else {
            context.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext context) {
        boolean wasConnecting = phase == Phase.CONNECTING;
        phase = Phase.CLOSING;
        if (wasConnecting) {
            log.info("connect from " + namaddr);
        }
        if (pipe != null) {
            pipe.abort();
            pipe = null;
        }
        if (countedConnection) {
            limits.disconnect(addr, System.nanoTime());
        }
        if (filters != null) {
            org.estafeta.cleanup.FilterChannel f = filters;
            filters = null;
            try {
                services.workers().execute(f::close);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                f.close(); // shutting down
            }
        }
        if (reason == null && !closedByServer) {
            reason = REASON_LOST_CONNECTION;
        }
        if (reason != null) {
            // Postfix 3.7/3.9 wording (3.10 added a queue ID prefix); a client that hangs up right after a message
            // was answered is not worth a line.
            if (where.equals(AFTER_DATA) || where.equals(AFTER_BDAT)) {
                log.info(reason + " after " + (where.equals(AFTER_DATA) ? "DATA" : "BDAT") + " ("
                        + contentBytes + " bytes) from " + namaddr);
            } else if (!where.equals(AFTER_EOM) || !reason.equals(REASON_LOST_CONNECTION)) {
                log.info(reason + " after " + where + " from " + namaddr);
            }
        }
        log.info("disconnect from " + namaddr + counters());
        notifyPostmaster(reason);
        context.fireChannelInactive();
    }

    private long contentBytes;

    /**
     * Sends the session transcript to the postmaster when {@code notify_classes} asks for an error class the session
     * had (Postfix's chat_reset and smtpd_chat_notify), through cleanup on the worker pool.
     */
    private void notifyPostmaster(String why) {
        var notice = transcript.take(namaddr, why, config);
        Cleanup cleanup = services.cleanup();
        if (notice.isEmpty()) {
            return;
        }
        if (cleanup == null) {
            log.warn("postmaster notify: no cleanup service");
            return;
        }
        services.workers().execute(() -> {
            try {
                notice.get().send(cleanup);
            } catch (IOException | RuntimeException e) {
                log.warn("postmaster notify: " + e.getMessage());
            }
        });
    }

    // ------------------------------------------------------------------------------------------------ commands

    private void line(SmtpInput.Line input) {
        String received = input.text();
        if (input.bareLf() && settings.bareNewline().reject) {
            logWhatsup("reject", "bare <LF> received");
            closeWith(settings.bareNewlineRejectCode() + " 5.5.2 " + settings.myhostname() + " Error: bare <LF> received");
            return;
        }
        if (settings.smtputf8() && !validUtf8(received)) {
            reply("500 5.5.2 Error: bad UTF-8 syntax");
            errorCount++;
            where = "UNKNOWN";
            total[SmtpCommand.UNKNOWN.ordinal()]++;
            afterCommand();
            return;
        }
        // Postfix handles the line as a C string: a NUL ends it.
        int nul = received.indexOf('\0');
        String text = nul >= 0 ? received.substring(0, nul) : received;
        List<SmtpTokens.Token> argv = SmtpTokens.split(text);
        if (transcript.active()) {
            // an AUTH initial response is a credential: the transcript names the mechanism only
            transcript.in(argv.size() > 2 && argv.get(0).text().equalsIgnoreCase("AUTH")
                    ? argv.get(0).text() + " " + argv.get(1).text() + " (initial response not shown)" : text);
        }
        if (argv.isEmpty()) {
            where = "UNKNOWN";
            total[SmtpCommand.UNKNOWN.ordinal()]++;
            errorCount++;
            reply("500 5.5.2 Error: bad syntax");
            afterCommand();
            return;
        }
        String verb = argv.get(0).text();
        SmtpCommand command = SmtpCommand.of(verb);
        total[command.ordinal()]++;
        if (command == SmtpCommand.UNKNOWN) {
            where = "UNKNOWN";
            if (isHeader(verb) || forbiddenByDefault(verb)) {
                // A web browser, an HTTP proxy client or a message sent without the SMTP dialogue: hang up.
                String escaped = escape(received);
                log.warn("non-SMTP command from " + namaddr + ": " + (escaped.length() > 100 ? escaped.substring(0, 100) : escaped));
                closeWith("221 2.7.0 Error: I can break rules, too. Goodbye.");
                return;
            }
        }
        if (certificateAbort != null) {
            closeWith("421 4.7.1 " + settings.myhostname() + " Error: " + certificateAbort);
            return;
        }
        if (accessDenied != null && command != SmtpCommand.QUIT) {
            if (accessDenied.startsWith("21", 1)) {
                reply(accessDenied);
            } else {
                reply("503 5.7.0 Error: access denied for " + namaddr);
                errorCount++;
            }
            afterCommand();
            return;
        }
        if (command == SmtpCommand.UNKNOWN) {
            reply("500 5.5.2 Error: command not recognized");
            errorCount++;
            afterCommand();
            return;
        }
        where = command.name();
        if ((!protocol.equals("ESMTP") || command.lastInGroup()) && flagIllPipelining()
                && settings.forbidUnauthPipelining()) {
            closeWith("554 5.5.0 Error: SMTP protocol synchronization");
            return;
        }
        if (starttls.level() == TlsPolicy.ENCRYPT && !tlsActive && !preTls(command)) {
            // Postfix's smtpd_proto(): with smtpd_tls_security_level = encrypt, only SMTPD_CMD_FLAG_PRE_TLS commands
            reply("530 5.7.0 Must issue a STARTTLS command first");
            errorCount++;
            afterCommand();
            return;
        }
        execute(command, argv);
    }

    /** Postfix's SMTPD_CMD_FLAG_PRE_TLS: what a client may send before STARTTLS at level encrypt. */
    static boolean preTls(SmtpCommand command) {
        return switch (command) {
            case HELO, EHLO, XCLIENT, XFORWARD, STARTTLS, RSET, NOOP, QUIT -> true;
            default -> false;
        };
    }

    /** Postfix's smtpd_flag_ill_pipelining(): true (once per session) when input waits after the current command. */
    private boolean flagIllPipelining() {
        if (illPipelining || decoder == null || decoder.buffered() == 0) {
            return false;
        }
        illPipelining = true;
        log.info("improper command pipelining after " + where + " from " + namaddr + ": " + escape(decoder.peek(100)));
        return true;
    }

    private void execute(SmtpCommand command, List<SmtpTokens.Token> argv) {
        switch (command) {
            case HELO -> helo(argv, false);
            case EHLO -> helo(argv, true);
            case XCLIENT, XFORWARD -> {
                // What Postfix answers every client not listed in smtpd_authorized_xclient/xforward_hosts (empty by default).
                reply("550 5.7.0 Error: insufficient authorization");
                done(command, false);
            }
            case STARTTLS -> starttls(argv);
            case AUTH -> auth(argv);
            case MAIL -> mail(argv);
            case RCPT -> rcpt(argv);
            case DATA -> data(argv);
            case BDAT -> bdat(argv);
            case RSET -> rset(argv);
            case NOOP -> {
                if (argv.size() != 1) {
                    fail(command, "501 5.5.4 Syntax: NOOP");
                } else {
                    reply("250 2.0.0 Ok");
                    done(command, true);
                }
            }
            case VRFY -> vrfy(argv);
            case ETRN -> etrn(argv);
            case QUIT -> {
                success[command.ordinal()]++;
                closeWith("221 2.0.0 Bye");
            }
            default -> throw new IllegalStateException("no handler for " + command);
        }
    }

    /**
     * A command has its reply: counts it as Postfix does (success, or one more error; a "junk" command beyond
     * {@code smtpd_junk_command_limit} is an error too), then takes the next command.
     */
    private void done(SmtpCommand command, boolean ok) {
        if (ok) {
            success[command.ordinal()]++;
        } else {
            errorCount++;
        }
        if (command.limited() && junkCommands++ > settings.junkCommandLimit()) {
            errorCount++;
        }
        afterCommand();
    }

    private void afterCommand() {
        if (commandPending) {
            commandPending = false;
            resumeLater();
        }
        if (phase == Phase.COMMANDS && errorCount >= settings.hardErrorLimit()) {
            reason = REASON_ERROR_LIMIT;
            closeWith("421 4.7.0 " + settings.myhostname() + " Error: too many errors");
        }
    }

    /** The command goes on asynchronously: no further input until {@link #done}. */
    private void pending() {
        commandPending = true;
        if (decoder != null) {
            decoder.pause();
        }
    }

    private void helo(List<SmtpTokens.Token> argv, boolean extended) {
        SmtpCommand command = extended ? SmtpCommand.EHLO : SmtpCommand.HELO;
        if (argv.size() < 2) {
            reply(extended ? "501 Syntax: EHLO hostname" : "501 Syntax: HELO hostname");
            done(command, false);
            return;
        }
        String name = joined(argv, 1);
        if (!settings.delayReject()) {
            pending();
            String saved = heloName;
            heloName = printable(name);
            evaluate(RestrictionEngine.HELO, command.name(), null).whenCompleteAsync((d, e) -> {
                heloName = saved;
                if (phase != Phase.COMMANDS) {
                    return;
                }
                if (d != null && d.refused()) {
                    reply(d.reply().orElseThrow().toString());
                    done(command, false);
                    flush();
                } else {
                    heloWithMechanisms(name, extended, command);
                }
            }, ctx.executor());
            return;
        }
        heloWithMechanisms(name, extended, command);
    }

    /**
     * EHLO with AUTH on: the back end is asked for its mechanisms on the worker pool (Dovecot is a socket away), then
     * the reply is made. A back end that cannot answer leaves AUTH out of the reply, with a warning, as Postfix's
     * smtpd does when its SASL server is unreachable (AUTH then gets 454 4.7.0).
     */
    private void heloWithMechanisms(String name, boolean extended, SmtpCommand command) {
        saslMechanisms = null;
        if (!extended || !sasl.active(tlsActive) || sasl.exception(clientAddress)) {
            heloAccepted(name, extended, command);
            return;
        }
        pending();
        boolean tls = tlsActive;
        CompletableFuture.supplyAsync(() -> {
            try {
                return sasl.mechanisms(tls);
            } catch (IOException | RuntimeException e) {
                log.warn(namaddr + ": SASL " + sasl.type() + ": cannot list mechanisms: " + e.getMessage());
                return null;
            }
        }, services.workers()).whenCompleteAsync((list, e) -> {
            if (phase != Phase.COMMANDS) {
                return;
            }
            saslMechanisms = list;
            if (list != null && list.isEmpty()) {
                log.warn(namaddr + ": SASL " + sasl.type() + ": no mechanism left after the security options");
            }
            heloAccepted(name, extended, command);
            flush();
        }, ctx.executor());
    }

    private void heloAccepted(String name, boolean extended, SmtpCommand command) {
        if (filters == null) {
            heloReply(name, extended);
            done(command, true);
            return;
        }
        pending();
        askFilters(command.name(), f -> f.helo(printable(name)), refusal -> {
            // as Postfix (Sendmail compatibility): only a 421 is answered at HELO/EHLO; a filter's refusal of the
            // session is answered at MAIL FROM, and after a 5xx EHLO announces ENHANCEDSTATUSCODES alone
            if (refusal != null && refusal.reply().code() == 421) {
                closeWith(refusal.reply().toString());
                return;
            }
            if (refusal != null && refusal.reply().isPermanent()) {
                filterRejectedSession = true;
            }
            heloReply(name, extended);
            done(command, true);
            flush();
        });
    }

    private void heloReply(String name, boolean extended) {
        resetTransaction();
        heloName = printable(name);
        protocol = extended ? "ESMTP" : "SMTP";
        if (!extended) {
            reply("250 " + settings.myhostname());
            return;
        }
        List<String> lines = new ArrayList<>();
        lines.add(settings.myhostname());
        lines.addAll(extensions());
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            if (i > 0) {
                sb.append("\r\n");
            }
            sb.append("250").append(i == lines.size() - 1 ? ' ' : '-').append(lines.get(i));
        }
        reply(sb.toString());
    }

    /** The EHLO keywords in Postfix's order: only what this server does. */
    List<String> extensions() {
        List<String> words = new ArrayList<>();
        if (filterRejectedSession) {
            // Postfix after a milter's 5xx at CONNECT or HELO: ENHANCEDSTATUSCODES only
            words.add("ENHANCEDSTATUSCODES");
            return words;
        }
        words.add("PIPELINING");
        words.add(settings.enforcingSizeLimit() ? "SIZE " + settings.messageSizeLimit() : "SIZE");
        if (!settings.disableVrfy()) {
            words.add("VRFY");
        }
        words.add("ETRN");
        if (starttls.offered() && !tlsActive) {
            words.add("STARTTLS");
        }
        if (saslMechanisms != null && !saslMechanisms.isEmpty()) {
            // Postfix's position; the AUTH= form for Outlook Express 4 and Exchange 5.0 (broken_sasl_auth_clients)
            String list = String.join(" ", saslMechanisms);
            words.add("AUTH " + list);
            if (sasl.brokenClients()) {
                words.add("AUTH=" + list);
            }
        }
        words.add("ENHANCEDSTATUSCODES");
        words.add("8BITMIME");
        words.add("DSN");
        if (settings.smtputf8()) {
            words.add("SMTPUTF8");
        }
        words.add("CHUNKING");
        return words;
    }

    /**
     * STARTTLS (RFC 3207), as Postfix's starttls_cmd(): the replies in Postfix's order, then {@code 220 2.0.0 Ready
     * to start TLS}, whatever the client pipelined behind the command thrown away (the 2011 command injection), a
     * Netty SslHandler in front of the pipeline (its handshake tasks run on the worker pool, never on the event
     * loop), and once the handshake is done the session forgets HELO/EHLO and the transaction.
     */
    private void starttls(List<SmtpTokens.Token> argv) {
        SmtpCommand cmd = SmtpCommand.STARTTLS;
        if (argv.size() != 1) {
            fail(cmd, "501 5.5.4 Syntax: STARTTLS");
            return;
        }
        if (tlsActive) {
            fail(cmd, "554 5.5.1 Error: TLS already active");
            return;
        }
        if (!starttls.offered()) {
            fail(cmd, starttls.level().offered() ? "454 4.7.0 TLS not available due to local problem"
                    : "502 5.5.1 Error: command not implemented");
            return;
        }
        pending();
        starttls.context().whenCompleteAsync((tls, e) -> {
            if (phase != Phase.COMMANDS) {
                return;
            }
            if (e != null) {
                reply("454 4.7.0 TLS not available due to local problem");
                done(cmd, false);
                flush();
                return;
            }
            startTls(tls);
        }, ctx.executor());
    }

    /** {@code TLSv1.3 with cipher X (256/256 bits)} once TLS is on, for the Received header. */
    private String tlsSummary;
    private boolean tlsAskedCertificate;
    private String clientCertificateIssuer = "";

    /** The TLS client certificate of this session (null: none, or no TLS). */
    private SessionFacts.ClientCertificate clientCertificate;
    /** smtpd_tls_req_ccert refused the client's certificate: the next command gets 421 with this reason. */
    private String certificateAbort;

    private void startTls(ServerTls tls) {
        SslHandler ssl;
        try {
            ssl = new SslHandler(tls.newEngine(), true, services.workers());
        } catch (RuntimeException e) {
            log.warn("cannot start TLS for " + namaddr + ": " + e);
            reply("454 4.7.0 TLS not available due to local problem");
            done(SmtpCommand.STARTTLS, false);
            flush();
            return;
        }
        ssl.setHandshakeTimeoutMillis(TimeUnit.SECONDS.toMillis(settings.timeoutSeconds()));
        // Whatever replies are still unwritten go out in plaintext first, then the 220 (SslHandler's startTls mode
        // leaves its first write in plaintext).
        flush();
        if (decoder != null && decoder.buffered() > 0) {
            // RFC 3207 section 4: plaintext sent after STARTTLS is not a command of the TLS session.
            log.info("improper command pipelining after STARTTLS from " + namaddr + ": " + escape(decoder.peek(100)));
            decoder.discardBuffered();
        }
        ctx.pipeline().addFirst("tls", ssl);
        byte[] ready = wire("220 2.0.0 Ready to start TLS\r\n");
        ctx.writeAndFlush(ctx.alloc().buffer(ready.length).writeBytes(ready));
        ssl.handshakeFuture().addListener(f -> {
            if (phase != Phase.COMMANDS) {
                return;
            }
            if (!f.isSuccess()) {
                Throwable cause = f.cause();
                log.info("SSL_accept error from " + namaddr + ": " + (cause.getMessage() != null ? cause.getMessage() : cause));
                reason = REASON_LOST_CONNECTION;
                phase = Phase.CLOSING;
                ctx.close();
                return;
            }
            javax.net.ssl.SSLSession session = ssl.engine().getSession();
            if (!tls.askClientCertificate()) {
                tlsEstablished(tls, session, null);
                return;
            }
            // verifying the client's certificate (PKIX, digests) is CPU work: the worker pool's, not the event loop's
            CompletableFuture.supplyAsync(() -> clientCertificate(tls, session), services.workers())
                    .whenCompleteAsync((cert, e) -> {
                        if (phase == Phase.COMMANDS) {
                            tlsEstablished(tls, session, cert);
                        }
                    }, ctx.executor());
        });
    }

    /** The handshake is done: the session is encrypted from here on, and starts afresh (RFC 3207). */
    private void tlsEstablished(ServerTls tls, javax.net.ssl.SSLSession session, SessionFacts.ClientCertificate cert) {
        tlsActive = true;
        clientCertificate = cert;
        int bits = cipherBits(session.getCipherSuite());
        tlsSummary = session.getProtocol() + " with cipher " + session.getCipherSuite() + " (" + bits + "/" + bits + " bits)";
        tlsAskedCertificate = tls.askClientCertificate();
        if (starttls.loglevel() >= 1) {
            String kind = cert == null ? "Anonymous" : cert.trusted() ? "Trusted" : "Untrusted";
            log.info(kind + " TLS connection established from " + namaddr + ": " + tlsSummary);
        }
        if (starttls.level() == TlsPolicy.ENCRYPT && config != null
                && config.get("smtpd_tls_req_ccert").map(v -> v.strip().equalsIgnoreCase("yes")).orElse(false)
                && (cert == null || !cert.trusted())) {
            // Postfix: log now, answer the next command with 421 and hang up
            certificateAbort = cert == null ? "No client certificate presented" : "Client certificate not trusted";
            log.info("NOQUEUE: abort: TLS from " + namaddr + ": " + certificateAbort);
        }
        if (filters != null) {
            filters.tls(new org.estafeta.api.filter.TlsInfo(session.getProtocol(), session.getCipherSuite(), bits,
                    Optional.ofNullable(cert).map(SessionFacts.ClientCertificate::commonName),
                    cert == null ? Optional.empty() : Optional.of(clientCertificateIssuer)));
        }
        // RFC 3207 section 4.2: discard all knowledge obtained from the client (Postfix: helo_reset, mail_reset)
        heloName = null;
        saslMechanisms = null;
        saslMethod = null;
        saslUsername = null;
        resetTransaction();
        done(SmtpCommand.STARTTLS, true);
        flush();
    }

    /**
     * The client's certificate as the restrictions see it (fingerprints with smtpd_tls_fingerprint_digest, whether
     * it verifies against smtpd_tls_CAfile/CApath), or null when it presented none.
     */
    private SessionFacts.ClientCertificate clientCertificate(ServerTls tls, javax.net.ssl.SSLSession session) {
        java.security.cert.Certificate[] peer;
        try {
            peer = session.getPeerCertificates();
        } catch (javax.net.ssl.SSLPeerUnverifiedException none) {
            return null;
        }
        List<java.security.cert.X509Certificate> chain = new ArrayList<>();
        for (java.security.cert.Certificate c : peer) {
            if (c instanceof java.security.cert.X509Certificate x) {
                chain.add(x);
            }
        }
        if (chain.isEmpty()) {
            return null;
        }
        String digest = config != null ? config.get("smtpd_tls_fingerprint_digest").orElse("sha256") : "sha256";
        try {
            java.security.cert.X509Certificate leaf = chain.get(0);
            clientCertificateIssuer = commonNameOf(leaf.getIssuerX500Principal().getName());
            return new SessionFacts.ClientCertificate(commonName(leaf),
                    org.estafeta.tls.TlsSupport.certificateFingerprint(leaf, digest),
                    org.estafeta.tls.TlsSupport.publicKeyFingerprint(leaf, digest), tls.trusted(chain));
        } catch (org.estafeta.tls.TlsException e) {
            log.warn(namaddr + ": cannot fingerprint the client certificate: " + e.getMessage());
            return null;
        }
    }

    private static String commonName(java.security.cert.X509Certificate cert) {
        return commonNameOf(cert.getSubjectX500Principal().getName());
    }

    private static String commonNameOf(String dn) {
        try {
            for (javax.naming.ldap.Rdn rdn : new javax.naming.ldap.LdapName(dn).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return printable(String.valueOf(rdn.getValue()));
                }
            }
        } catch (javax.naming.InvalidNameException e) {
            // fall through
        }
        return "";
    }

    /** The symmetric key size a JSSE cipher suite name implies, for Postfix's {@code (256/256 bits)}. */
    static int cipherBits(String suite) {
        if (suite.contains("_256_") || suite.contains("CHACHA20")) {
            return 256;
        }
        if (suite.contains("_128_")) {
            return 128;
        }
        if (suite.contains("3DES")) {
            return 168;
        }
        return 0;
    }

    boolean tlsActive() {
        return tlsActive;
    }

    /** An AUTH exchange waiting for the client's next response line. */
    private record SaslInProgress(String mechanism, SaslExchange exchange) {
    }

    /**
     * AUTH (RFC 4954), as Postfix's smtpd_sasl_auth_cmd() and smtpd_sasl_authenticate(): the checks and replies in
     * Postfix's order, then the exchange with the back end on the worker pool, one response line at a time. Every
     * failure is logged (never with the client's responses) and counts as an error, so smtpd_soft_error_limit's
     * tarpit slows password guessing; smtpd_client_auth_rate_limit bounds AUTH commands per client address.
     */
    private void auth(List<SmtpTokens.Token> argv) {
        SmtpCommand cmd = SmtpCommand.AUTH;
        if (authLimits != null && sasl.authRateLimit() > 0 && sasl.active(tlsActive)
                && (clientAddress == null || !settings.eventLimitExceptions().contains(clientAddress))) {
            int rate = authLimits.event(addr, System.nanoTime());
            if (rate > sasl.authRateLimit()) {
                log.warn("AUTH command rate limit exceeded: " + rate + " from " + namaddr + " for service " + serviceName());
                fail(cmd, "450 4.7.1 Error: too many AUTH commands from " + addr);
                return;
            }
        }
        if (settings.heloRequired() && heloName == null) {
            fail(cmd, "503 5.5.1 Error: send HELO/EHLO first");
            return;
        }
        if (!sasl.active(tlsActive)) {
            fail(cmd, "503 5.5.1 Error: authentication not enabled");
            return;
        }
        if (sender != null) {
            fail(cmd, "503 5.5.1 Error: MAIL transaction in progress");
            return;
        }
        if (saslUsername != null) {
            fail(cmd, "503 5.5.1 Error: already authenticated");
            return;
        }
        if (argv.size() < 2 || argv.size() > 3) {
            fail(cmd, "501 5.5.4 Syntax: AUTH mechanism");
            return;
        }
        String mechanism = printable(argv.get(1).text()).toUpperCase(Locale.ROOT);
        byte[] initial = null;
        if (argv.size() == 3) {
            initial = decodeResponse(argv.get(2).text());
            if (initial == null) {
                saslFailed(mechanism, "Invalid base64 data in initial response");
                return;
            }
        }
        byte[] first = initial;
        pending();
        boolean tls = tlsActive;
        ClientInfo client = clientInfo();
        // what EHLO announced in this TLS state (STARTTLS forgets it); asked again only when EHLO did not announce
        List<String> announced = saslMechanisms;
        CompletableFuture.supplyAsync(() -> {
            try {
                if (!(announced != null ? announced : sasl.mechanisms(tls)).contains(mechanism)) {
                    return (Object) new SaslStep.Failure(new Reply(535, "5.7.8",
                            "Error: authentication failed: Invalid authentication mechanism: '" + mechanism + "'"));
                }
                SaslExchange exchange = sasl.server().start(mechanism, saslSession(client), sasl.context());
                return new Object[] {exchange, exchange.respond(first)};
            } catch (IOException | RuntimeException e) {
                return e;
            }
        }, services.workers()).whenCompleteAsync((result, e) -> {
            if (phase != Phase.COMMANDS) {
                return;
            }
            if (result instanceof Object[] pair) {
                saslExchange = new SaslInProgress(mechanism, (SaslExchange) pair[0]);
                saslStep((SaslStep) pair[1]);
            } else if (result instanceof SaslStep step) {
                saslExchange = new SaslInProgress(mechanism, null);
                saslStep(step);
            } else {
                Throwable t = result instanceof Throwable th ? th : e;
                saslExchange = new SaslInProgress(mechanism, null);
                saslTemporary(t, "Can't connect to authentication server");
            }
        }, ctx.executor());
    }

    private org.estafeta.api.sasl.SaslSession saslSession(ClientInfo client) {
        InetSocketAddress local = ctx.channel().localAddress() instanceof InetSocketAddress isa ? isa : null;
        return new org.estafeta.api.sasl.SaslSession(client, port,
                local != null && local.getAddress() != null ? Addresses.text(local.getAddress()) : "",
                local != null ? local.getPort() : 0, serviceName(), sasl.realm());
    }

    /** One step's answer: a 334 challenge (the next line is a response), or the end of the exchange. */
    private void saslStep(SaslStep step) {
        if (step instanceof SaslStep.Challenge challenge) {
            reply("334 " + java.util.Base64.getEncoder().encodeToString(challenge.data()));
            flush();
            awaitingSaslResponse = true;
            if (decoder != null) {
                decoder.limit(sasl.responseLimit()); // Postfix reads the response with smtpd_sasl_response_limit
                decoder.resume();
            }
        } else if (step instanceof SaslStep.Success success) {
            saslMethod = saslExchange.mechanism();
            saslUsername = printable(success.username());
            if (filters != null) {
                filters.authenticated(saslMethod, saslUsername);
            }
            saslExchange = null;
            restoreLineLimit();
            reply("235 2.7.0 Authentication successful");
            done(SmtpCommand.AUTH, true);
            flush();
        } else if (step instanceof SaslStep.Failure failure) {
            String text = failure.reply().toString();
            String prefix = "535 5.7.8 Error: authentication failed: ";
            String reason = text.startsWith(prefix) ? text.substring(prefix.length()) : failure.reply().text();
            log.warn(namaddr + ": SASL " + saslExchange.mechanism() + " authentication failed: "
                    + (reason.isEmpty() ? "(reason unavailable)" : reason));
            saslEnd(false, text);
        }
    }

    /** The next response line of the exchange (the decoder is paused again until the back end answers). */
    private void saslResponse(String line) {
        SaslInProgress current = saslExchange;
        awaitingSaslResponse = false;
        if (decoder != null) {
            decoder.pause();
        }
        if (line.equals("*")) {
            log.warn(namaddr + ": SASL " + current.mechanism() + " authentication aborted");
            saslEnd(false, "501 5.7.0 Authentication aborted");
            return;
        }
        byte[] response = decodeResponse(line);
        if (response == null) {
            saslFailed(current.mechanism(), "Invalid base64 data in continued response");
            return;
        }
        CompletableFuture.supplyAsync(() -> {
            try {
                return (Object) current.exchange().respond(response);
            } catch (IOException | RuntimeException e) {
                return e;
            }
        }, services.workers()).whenCompleteAsync((result, e) -> {
            if (phase != Phase.COMMANDS || saslExchange != current) {
                return;
            }
            if (result instanceof SaslStep step) {
                saslStep(step);
            } else {
                saslTemporary(result instanceof Throwable t ? t : e, "Connection lost to authentication server");
            }
        }, ctx.executor());
    }

    private void saslFailed(String mechanism, String reason) {
        log.warn(namaddr + ": SASL " + mechanism + " authentication failed: " + reason);
        if (saslExchange == null) {
            // before the exchange began (the AUTH line itself): a plain command failure
            fail(SmtpCommand.AUTH, "535 5.7.8 Error: authentication failed: " + reason);
            return;
        }
        saslEnd(false, "535 5.7.8 Error: authentication failed: " + reason);
    }

    private void saslTemporary(Throwable cause, String reason) {
        String mechanism = saslExchange != null ? saslExchange.mechanism() : "?";
        log.warn(namaddr + ": SASL " + mechanism + " authentication failed: " + reason + " (" + sasl.type() + ": "
                + (cause == null ? "unknown error" : cause.getMessage() != null ? cause.getMessage() : cause.toString()) + ")");
        saslEnd(false, "454 4.7.0 Temporary authentication failure: " + reason);
    }

    /** Ends an exchange that did not succeed: the reply, an error counted (the tarpit), the next command read. */
    private void saslEnd(boolean ok, String text) {
        saslExchange = null;
        awaitingSaslResponse = false;
        restoreLineLimit();
        reply(text);
        done(SmtpCommand.AUTH, ok);
        flush();
    }

    private void restoreLineLimit() {
        if (decoder != null) {
            decoder.limit(settings.lineLengthLimit());
        }
    }

    /** RFC 4954's response: base64, {@code =} for empty; null when it is not valid base64. */
    static byte[] decodeResponse(String text) {
        if (text.equals("=")) {
            return new byte[0];
        }
        if (text.isEmpty() || text.length() % 4 != 0) {
            return text.isEmpty() ? new byte[0] : null;
        }
        try {
            return java.util.Base64.getDecoder().decode(text);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** The client as the restrictions, the SASL back end and cleanup see it. */
    private ClientInfo clientInfo() {
        return new ClientInfo(addr, clientName(), heloName == null ? "" : heloName, tlsActive,
                Optional.ofNullable(saslUsername));
    }

    // ---- MAIL ----

    private void mail(List<SmtpTokens.Token> argv) {
        SmtpCommand cmd = SmtpCommand.MAIL;
        if (settings.heloRequired() && heloName == null) {
            fail(cmd, "503 5.5.1 Error: send HELO/EHLO first");
            return;
        }
        if (sender != null) {
            fail(cmd, "503 5.5.1 Error: nested MAIL command");
            return;
        }
        if (bdat) {
            fail(cmd, "503 5.5.1 Error: MAIL after BDAT");
            return;
        }
        if (argv.size() < 3 || !argv.get(1).text().equalsIgnoreCase("from:")) {
            fail(cmd, "501 5.5.4 Syntax: MAIL FROM:<address>");
            return;
        }
        if (argv.get(2).error()) {
            fail(cmd, "501 5.1.7 Bad sender address syntax");
            return;
        }
        boolean utf8 = false;
        if (settings.smtputf8()) {
            for (int i = 3; i < argv.size(); i++) {
                if (argv.get(i).text().equalsIgnoreCase("SMTPUTF8")) {
                    utf8 = true;
                }
            }
        }
        String address = extractAddress(argv.get(2).text(), true);
        if (address == null) {
            fail(cmd, "501 5.1.7 Bad sender address syntax");
            return;
        }
        Map<String, String> params = new LinkedHashMap<>();
        long size = 0;
        boolean ret = false;
        boolean envid = false;
        boolean authSeen = false;
        String authParameter = null;
        for (int i = 3; i < argv.size(); i++) {
            String arg = argv.get(i).text();
            String upper = arg.toUpperCase(Locale.ROOT);
            if (upper.equals("BODY=8BITMIME") || upper.equals("BODY=7BIT")) {
                params.put("BODY", upper.substring(5));
            } else if (upper.startsWith("SIZE=")) {
                String digits = arg.substring(5);
                if (digits.isEmpty() || !digits.chars().allMatch(c -> c >= '0' && c <= '9')) {
                    fail(cmd, "501 5.5.4 Bad message size syntax");
                    return;
                }
                try {
                    size = Long.parseLong(digits);
                } catch (NumberFormatException e) {
                    fail(cmd, "552 5.3.4 Message size exceeds file system imposed limit");
                    return;
                }
                params.put("SIZE", digits);
            } else if (settings.smtputf8() && upper.equals("SMTPUTF8")) {
                params.put("SMTPUTF8", "");
            } else if (upper.startsWith("AUTH=")) {
                if (!sasl.active(tlsActive)) {
                    // Postfix with SASL built in and not active for this session
                    fail(cmd, "503 5.5.4 Error: authentication disabled");
                    return;
                }
                // Postfix's smtpd_sasl_mail_opt(): kept for the log (sasl_sender=), not passed on
                if (authSeen) {
                    fail(cmd, "503 5.5.4 Error: multiple AUTH= options");
                    return;
                }
                authSeen = true;
                String value = arg.substring(5);
                authParameter = value.equals("<>") ? null : printable(value);
            } else if (upper.startsWith("RET=")) {
                String value = upper.substring(4);
                if (ret || !(value.equals("FULL") || value.equals("HDRS"))) {
                    fail(cmd, "501 5.5.4 Bad RET parameter syntax");
                    return;
                }
                ret = true;
                params.put("RET", value);
            } else if (upper.startsWith("ENVID=")) {
                String decoded = envid ? null : Dsn.xtextDecode(arg.substring(6));
                if (decoded == null || !Dsn.printableOrTab(decoded)) {
                    fail(cmd, "501 5.5.4 Bad ENVID parameter syntax");
                    return;
                }
                envid = true;
                params.put("ENVID", arg.substring(6));
            } else {
                fail(cmd, "555 5.5.4 Unsupported option: " + arg);
                return;
            }
        }
        if (settings.enforcingSizeLimit() && size > settings.messageSizeLimit()) {
            String text = "552 5.3.4 Message size exceeds fixed limit";
            String saved = sender;
            sender = address;
            logWhatsup("reject", text);
            sender = saved;
            fail(cmd, text);
            return;
        }
        boolean declaredUtf8 = utf8;
        long declaredSize = size;
        saslSender = authParameter;
        if (!settings.delayReject()) {
            pending();
            sender = address;
            smtputf8 = declaredUtf8;
            evaluate(RestrictionEngine.SENDER, "MAIL", null).whenCompleteAsync((d, e) -> {
                if (phase != Phase.COMMANDS) {
                    return;
                }
                if (d != null && d.refused()) {
                    resetTransaction();
                    reply(d.reply().orElseThrow().toString());
                    done(cmd, false);
                } else {
                    if (d != null) {
                        actions = d.actions();
                    }
                    mailFiltered(address, params, declaredUtf8, declaredSize, cmd);
                }
                flush();
            }, ctx.executor());
            return;
        }
        mailFiltered(address, params, declaredUtf8, declaredSize, cmd);
    }

    /** MAIL accepted by the restrictions: the filters hear of it, and a refusal of theirs refuses it. */
    private void mailFiltered(String address, Map<String, String> params, boolean utf8, long size, SmtpCommand cmd) {
        if (filters == null) {
            mailAccepted(address, params, utf8, size);
            done(cmd, true);
            return;
        }
        pending();
        sender = address; // for the log line of a refusal
        askFilters("MAIL", f -> f.mail(address, params), refusal -> {
            if (refusal != null) {
                resetTransaction();
            }
            if (!refused(refusal, cmd)) {
                mailAccepted(address, params, utf8, size);
                done(cmd, true);
                flush();
            }
        });
    }

    private void mailAccepted(String address, Map<String, String> params, boolean utf8, long size) {
        sender = address;
        mailParameters = Map.copyOf(params);
        smtputf8 = utf8;
        reply("250 2.1.0 Ok");
    }

    // ---- RCPT ----

    private void rcpt(List<SmtpTokens.Token> argv) {
        SmtpCommand cmd = SmtpCommand.RCPT;
        if (sender == null) {
            fail(cmd, "503 5.5.1 Error: need MAIL command");
            return;
        }
        if (bdat) {
            fail(cmd, "503 5.5.1 Error: RCPT after BDAT");
            return;
        }
        if (argv.size() < 3 || !argv.get(1).text().equalsIgnoreCase("to:")) {
            fail(cmd, "501 5.5.4 Syntax: RCPT TO:<address>");
            return;
        }
        String address = argv.get(2).error() ? null : extractAddress(argv.get(2).text(), false);
        if (address == null) {
            fail(cmd, "501 5.1.3 Bad recipient address syntax");
            return;
        }
        List<String> notify = List.of();
        Optional<String> orcpt = Optional.empty();
        for (int i = 3; i < argv.size(); i++) {
            String arg = argv.get(i).text();
            String upper = arg.toUpperCase(Locale.ROOT);
            if (upper.startsWith("NOTIFY=")) {
                List<String> parsed = notify.isEmpty() ? Dsn.notify(upper.substring(7)) : null;
                if (parsed == null) {
                    fail(cmd, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
                    return;
                }
                notify = parsed;
            } else if (upper.startsWith("ORCPT=")) {
                String value = arg.substring(6);
                if (orcpt.isPresent() || !Dsn.validOrcpt(value)) {
                    fail(cmd, "501 5.5.4 Error: Bad ORCPT parameter syntax");
                    return;
                }
                orcpt = Optional.of(value);
            } else {
                fail(cmd, "555 5.5.4 Unsupported option: " + arg);
                return;
            }
        }
        if (settings.recipientLimit() > 0 && recipients.size() >= settings.recipientLimit()) {
            reply("452 4.5.3 Error: too many recipients");
            done(cmd, rcptOvershoot++ < settings.recipientOvershootLimit());
            return;
        }
        Submission.Recipient recipient = new Submission.Recipient(address, notify, orcpt);
        Map<String, String> rcptParameters = new java.util.LinkedHashMap<>();
        for (int i = 3; i < argv.size(); i++) {
            String arg = argv.get(i).text();
            int eq = arg.indexOf('=');
            rcptParameters.put((eq < 0 ? arg : arg.substring(0, eq)).toUpperCase(Locale.ROOT),
                    eq < 0 ? "" : arg.substring(eq + 1));
        }
        pending();
        checkRecipient(address, "RCPT").whenCompleteAsync((refusal, e) -> {
            if (phase != Phase.COMMANDS) {
                return;
            }
            if (refusal != null) {
                reply(refusal);
                done(cmd, false);
            } else if (filters != null) {
                rcptFiltered(recipient, rcptParameters, cmd);
                return;
            } else {
                recipients.add(recipient);
                lastRecipient = address;
                reply("250 2.1.5 Ok");
                done(cmd, true);
            }
            flush();
        }, ctx.executor());
    }

    /** RCPT accepted by the restrictions: the filters hear of it, and a refusal of theirs refuses this recipient. */
    private void rcptFiltered(Submission.Recipient recipient, Map<String, String> parameters, SmtpCommand cmd) {
        String saved = lastRecipient;
        lastRecipient = recipient.address(); // for the log line of a refusal
        askFilters("RCPT", f -> f.rcpt(recipient.address(), parameters), refusal -> {
            if (refusal != null) {
                lastRecipient = saved;
            }
            if (!refused(refusal, cmd)) {
                recipients.add(recipient);
                reply("250 2.1.5 Ok");
                done(cmd, true);
                flush();
            }
        });
    }

    /**
     * The RCPT stage: with {@code smtpd_delay_reject} the client, helo and sender lists first, then the recipient
     * list (which includes the relay list). Completes with the refusal reply, or null to accept.
     */
    private CompletionStage<String> checkRecipient(String address, String command) {
        RestrictionEngine engine = services.restrictions();
        String saved = lastRecipient;
        lastRecipient = address;
        if (engine == null) {
            if (settings.mynetworks().contains(clientAddress)) {
                lastRecipient = saved;
                return CompletableFuture.completedFuture(null);
            }
            String text = "451 4.3.5 Server configuration error";
            logWhatsup("reject", text);
            lastRecipient = saved;
            return CompletableFuture.completedFuture(text);
        }
        List<String> lists = settings.delayReject()
                ? List.of(RestrictionEngine.CLIENT, RestrictionEngine.HELO, RestrictionEngine.SENDER, RestrictionEngine.RECIPIENT)
                : List.of(RestrictionEngine.RECIPIENT);
        CompletableFuture<String> result = new CompletableFuture<>();
        chain(lists, 0, command, address, Optional.empty(), result);
        lastRecipient = saved;
        return result;
    }

    private void chain(List<String> lists, int index, String command, String recipient, Optional<Reply> dip,
            CompletableFuture<String> result) {
        if (index == lists.size()) {
            result.complete(null);
            return;
        }
        String list = lists.get(index);
        String saved = lastRecipient;
        lastRecipient = recipient;
        CompletionStage<Decision> stage = evaluate(list, command, dip);
        lastRecipient = saved;
        stage.whenCompleteAsync((d, e) -> {
            if (d == null) {
                result.complete("451 4.3.5 Server configuration error");
                return;
            }
            if (d.refused()) {
                result.complete(d.reply().orElseThrow().toString());
                return;
            }
            actions = d.actions();
            if (d.actions().discard().isPresent()) {
                result.complete(null);
                return;
            }
            chain(lists, index + 1, command, recipient, d.deferIfPermit(), result);
        }, ctx.executor());
    }

    /**
     * Evaluates one restriction list (or says "no decision" when no engine is there), logging the engine's lines.
     * Completes on any thread; callers continue on the event loop.
     */
    private CompletionStage<Decision> evaluate(String list, String command, Optional<Reply> dip) {
        RestrictionEngine engine = services.restrictions();
        if (engine == null || config == null) {
            return CompletableFuture.completedFuture(
                    new Decision(Decision.Kind.DUNNO, Optional.empty(), actions, Optional.empty(), List.of()));
        }
        SessionFacts facts = facts(command, dip == null ? Optional.empty() : dip);
        CompletionStage<Decision> stage;
        try {
            stage = engine.evaluate(list, facts, config);
        } catch (RuntimeException e) {
            log.warn(namaddr + ": restriction engine failed: " + e);
            stage = CompletableFuture.completedFuture(null);
        }
        return stage.handle((d, e) -> {
            if (d == null) {
                return new Decision(Decision.Kind.DEFER,
                        Optional.of(Reply.tempfail(451, "4.3.5", "Server configuration error")), actions,
                        Optional.empty(), List.of());
            }
            d.logLines().forEach(log::info);
            return d;
        });
    }

    private SessionFacts facts(String command, Optional<Reply> dip) {
        SessionFacts.Builder b = SessionFacts.builder(addr, port)
                .command(command)
                .helo(heloName)
                .protocol(protocol)
                .sender(sender)
                .recipient(lastRecipient)
                .recipientCount(recipients.size())
                .smtputf8(smtputf8)
                .tls(tlsActive)
                .clientCertificate(clientCertificate)
                .sasl(saslMethod, saslUsername)
                .deferIfPermit(dip)
                .actions(actions);
        if (names != null) {
            b.clientName(names.isVerified() ? names.name() : UNKNOWN_HOST, names.status());
            b.reverseClientName(names.reverseStatus() == Outcome.FOUND ? names.reverseName() : UNKNOWN_HOST,
                    names.reverseStatus());
        }
        return b.build();
    }

    // ---- DATA ----

    private void data(List<SmtpTokens.Token> argv) {
        SmtpCommand cmd = SmtpCommand.DATA;
        if (bdat) {
            fail(cmd, "503 5.5.1 Error: DATA after BDAT");
            return;
        }
        if (recipients.isEmpty()) {
            fail(cmd, sender == null ? "503 5.5.1 Error: need RCPT command" : "554 5.5.1 Error: no valid recipients");
            return;
        }
        if (argv.size() != 1) {
            fail(cmd, "501 5.5.4 Syntax: DATA");
            return;
        }
        pending();
        evaluate(RestrictionEngine.DATA, "DATA", null).whenCompleteAsync((d, e) -> {
            if (phase != Phase.COMMANDS) {
                return;
            }
            if (d != null && d.refused()) {
                reply(d.reply().orElseThrow().toString());
                done(cmd, false);
                flush();
                return;
            }
            if (d != null) {
                actions = d.actions();
            }
            Cleanup cleanup = services.cleanup();
            if (cleanup == null) {
                reply(QUEUE_WRITE_ERROR);
                done(cmd, false);
                flush();
                return;
            }
            openPipe(cleanup);
            if (filters == null) {
                startContent();
                return;
            }
            // the filters hear DATA as cleanup opens the message: their refusal is the answer to DATA
            CleanupPipe opening = pipe;
            opening.whenOpen(refusal -> ctx.executor().execute(() -> {
                if (phase != Phase.COMMANDS || pipe != opening) {
                    return;
                }
                if (refusal == null) {
                    startContent();
                    return;
                }
                pipe.abort();
                pipe = null;
                logWhatsup("milter-reject", refusal.toString());
                if (refusal.code() == 421) {
                    closeWith(refusal.toString());
                    return;
                }
                reply(refusal.toString());
                done(cmd, false);
                flush();
            }));
        }, ctx.executor());
    }

    /** DATA may go on: 354, and the decoder reads content from now on. */
    private void startContent() {
        reply("354 End data with <CR><LF>.<CR><LF>");
        flush();
        where = AFTER_DATA;
        contentBytes = 0;
        decoder.startData(settings.messageSizeLimit());
        // commandPending stays set: the decoder resumes now for content only
        decoder.resume();
        updateReading();
    }

    private void openPipe(Cleanup cleanup) {
        pipe = new CleanupPipe(services.workers(), () -> ctx.executor().execute(this::updateReading));
        ClientInfo client = clientInfo();
        Submission.Actions effective = actions;
        if (effective.filter().isEmpty() && !settings.contentFilter().isEmpty()) {
            // content_filter: as Postfix's cleanup records it, unless an access FILTER action chose one already
            effective = new Submission.Actions(actions.hold(), actions.discard(), Optional.of(settings.contentFilter()),
                    actions.redirect(), actions.prependHeaders());
        }
        pipe.open(cleanup, new Submission(sender, mailParameters, recipients, client, protocol, effective,
                Optional.empty(), receivedComments()), config, filters);
    }

    /**
     * Postfix's Received comments: with smtpd_tls_received_header, the TLS protocol and cipher and the client
     * certificate (or its absence); with smtpd_sasl_authenticated_header, the SASL user name. Text from the client
     * is sanitized as Postfix's comment_sanitize() leaves it: no parentheses or backslashes to unbalance the comment.
     */
    private List<String> receivedComments() {
        List<String> comments = new ArrayList<>();
        if (tlsActive && tlsSummary != null && config != null
                && config.get("smtpd_tls_received_header").map(v -> v.strip().equalsIgnoreCase("yes")).orElse(false)) {
            comments.add("(using " + tlsSummary + ")");
            if (clientCertificate != null) {
                comments.add("(Client CN \"" + commentSafe(clientCertificate.commonName()) + "\", Issuer \""
                        + commentSafe(clientCertificateIssuer) + "\" (" + (clientCertificate.trusted() ? "verified OK" : "not verified") + "))");
            } else {
                comments.add(tlsAskedCertificate ? "(Client did not present a certificate)" : "(No client certificate requested)");
            }
        }
        if (saslUsername != null && sasl.authenticatedHeader()) {
            comments.add("(Authenticated sender: " + commentSafe(saslUsername) + ")");
        }
        return comments;
    }

    private static String commentSafe(String s) {
        return s.replaceAll("[()\\\\\"]", "?");
    }

    private boolean contentPhase() {
        return where.equals(AFTER_DATA) || where.equals(AFTER_BDAT);
    }

    private void content(SmtpInput.Content content) {
        contentBytes += content.bytes().length;
        if (skipReply == null && pipe != null) {
            pipe.write(content.bytes());
            if (pipe.pendingBytes() > CleanupPipe.HIGH_WATER) {
                updateReading();
            }
        }
    }

    private void contentEnd(SmtpInput.ContentEnd end) {
        boolean isBdat = where.equals(AFTER_BDAT);
        SmtpCommand cmd = isBdat ? SmtpCommand.BDAT : SmtpCommand.DATA;
        if (isBdat && skipReply != null) {
            String text = skipReply;
            skipReply = null;
            skipped(text, skipLast);
            return;
        }
        if (isBdat && !chunkLast) {
            if (end.sizeExceeded() || (end.bareLf() && settings.bareNewline().reject)) {
                finishMessage(end, cmd, true);
                return;
            }
            where = "BDAT";
            reply("250 2.0.0 Ok: " + chunkSize + " bytes");
            done(cmd, true);
            flush();
            return;
        }
        where = AFTER_EOM;
        finishMessage(end, cmd, isBdat);
    }

    /** End of the message: end-of-data restrictions, then commit (or abort), then the reply. */
    private void finishMessage(SmtpInput.ContentEnd end, SmtpCommand cmd, boolean isBdat) {
        CleanupPipe current = pipe;
        boolean bareLfReject = end.bareLf() && settings.bareNewline().reject;
        CompletionStage<Decision> eod = end.sizeExceeded() || bareLfReject
                ? CompletableFuture.completedFuture(null)
                : evaluate(RestrictionEngine.END_OF_DATA, AFTER_EOM, null);
        eod.whenCompleteAsync((d, e) -> {
            if (phase != Phase.COMMANDS) {
                return;
            }
            if (d != null && d.refused()) {
                current.finish(true, o -> { });
                pipe = null;
                reply(d.reply().orElseThrow().toString());
                resetTransaction();
                done(cmd, false);
                flush();
                return;
            }
            if (end.sizeExceeded()) {
                log.warn("NOQUEUE: queue file size limit exceeded");
            }
            boolean abort = end.sizeExceeded() || bareLfReject;
            current.finish(abort, outcome -> ctx.executor().execute(() -> committed(outcome, end, cmd, isBdat, bareLfReject)));
        }, ctx.executor());
    }

    private void committed(CleanupPipe.Outcome outcome, SmtpInput.ContentEnd end, SmtpCommand cmd, boolean isBdat,
            boolean bareLfReject) {
        pipe = null;
        if (phase != Phase.COMMANDS) {
            return;
        }
        boolean ok = false;
        if (outcome instanceof CleanupPipe.Outcome.Queued queued && !end.sizeExceeded() && !bareLfReject) {
            // Postfix's smtpd: client=, then the SASL fields of an authenticated session
            log.info(queued.queueId() + ": client=" + namaddr
                    + (saslMethod != null ? ", sasl_method=" + saslMethod : "")
                    + (saslUsername != null ? ", sasl_username=" + saslUsername : "")
                    + (saslSender != null ? ", sasl_sender=" + saslSender : ""));
            errorCount = 0;
            junkCommands = 0;
            ok = true;
            reply(isBdat ? "250 2.0.0 Ok: " + end.size() + " bytes queued as " + queued.queueId()
                    : "250 2.0.0 Ok: queued as " + queued.queueId());
        } else if (bareLfReject) {
            logWhatsup("reject", "bare <LF> received");
            reply(settings.bareNewlineRejectCode() + " 5.5.2 " + settings.myhostname() + " Error: bare <LF> received");
        } else if (end.sizeExceeded()) {
            reply("552 5.3.4 Error: message file too big");
        } else if (outcome instanceof CleanupPipe.Outcome.Rejected rejected) {
            reply(rejected.reply().toString());
        } else if (outcome instanceof CleanupPipe.Outcome.Failed failed
                && failed.cause() instanceof org.estafeta.cleanup.Cleanup.RefusedAtOpen refused) {
            // BDAT: the filters refused the message as it was opened; their reply, not a queue error
            logWhatsup("milter-reject", refused.reply().toString());
            reply(refused.reply().toString());
        } else {
            boolean storage = false;
            if (outcome instanceof CleanupPipe.Outcome.Failed failed) {
                log.warn("NOQUEUE: cleanup: " + failed.cause());
                storage = failed.cause() instanceof org.estafeta.cleanup.InsufficientStorageException;
            }
            reply(storage ? "452 4.3.1 Insufficient system storage" : QUEUE_WRITE_ERROR);
        }
        boolean wasBdatChunkError = isBdat && !chunkLast;
        resetTransaction();
        if (transcript.size() > SessionTranscript.FLUSH_THRESHOLD) {
            notifyPostmaster(null);
        }
        if (wasBdatChunkError) {
            bdat = true;
            bdatError = true;
        }
        done(cmd, ok);
        flush();
    }

    // ---- BDAT ----

    private void bdat(List<SmtpTokens.Token> argv) {
        SmtpCommand cmd = SmtpCommand.BDAT;
        long size;
        boolean last;
        try {
            if (argv.size() < 2 || argv.size() > 3 || !argv.get(1).text().chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw new NumberFormatException();
            }
            size = Long.parseLong(argv.get(1).text());
            last = argv.size() == 3;
            if (last && !argv.get(2).text().equalsIgnoreCase("LAST")) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            log.warn("NOQUEUE: malformed BDAT command syntax from " + namaddr + ": "
                    + printable(joined(argv, 0)).substring(0, Math.min(100, printable(joined(argv, 0)).length())));
            errorCount++;
            success[cmd.ordinal()] += 0;
            closeWith("521 5.5.4 Syntax: BDAT count [LAST]");
            return;
        }
        chunkSize = size;
        chunkLast = last;
        if (size == 0 && !last) {
            log.warn("NOQUEUE: null BDAT request from " + namaddr);
            skip(size, last, "551 5.7.1 Null BDAT request");
            return;
        }
        if (bdatError) {
            skip(size, last, "551 5.0.0 Discarded " + size + " bytes after earlier error");
            return;
        }
        if (!bdat) {
            if (recipients.isEmpty()) {
                skip(size, last, sender == null ? "503 5.5.1 Error: need RCPT command" : "554 5.5.1 Error: no valid recipients");
                return;
            }
            pending();
            evaluate(RestrictionEngine.DATA, "DATA", null).whenCompleteAsync((d, e) -> {
                if (phase != Phase.COMMANDS) {
                    return;
                }
                if (d != null && d.refused()) {
                    skip(size, last, d.reply().orElseThrow().toString());
                } else {
                    if (d != null) {
                        actions = d.actions();
                    }
                    Cleanup cleanup = services.cleanup();
                    if (cleanup == null) {
                        skip(size, last, QUEUE_WRITE_ERROR);
                    } else {
                        openPipe(cleanup);
                        bdat = true;
                        chunk(size, last, true);
                    }
                }
                decoder.resume();
                updateReading();
            }, ctx.executor());
            return;
        }
        chunk(size, last, false);
    }

    private void chunk(long size, boolean last, boolean first) {
        if (settings.enforcingSizeLimit() && contentBytes > settings.messageSizeLimit() - size) {
            log.warn("NOQUEUE: BDAT request from " + namaddr + " exceeds message size limit");
            skip(size, last, "552 5.3.4 Chunk exceeds message size limit");
            return;
        }
        where = AFTER_BDAT;
        commandPending = true;
        if (first) {
            contentBytes = 0;
        }
        if (size == 0) {
            List<Object> out = new ArrayList<>();
            decoder.emptyChunk(last, first, settings.messageSizeLimit(), out);
            for (Object o : out) {
                channelRead(ctx, o);
            }
            return;
        }
        decoder.startBdat(size, last, first, settings.messageSizeLimit());
    }

    /** Postfix's skip_bdat(): reads and drops the chunk, then replies {@code text}. */
    private void skip(long size, boolean last, String text) {
        commandPending = true;
        if (size == 0) {
            skipped(text, last);
            return;
        }
        skipReply = text;
        skipLast = last;
        where = AFTER_BDAT;
        decoder.startBdat(size, last, true, 0);
    }

    private void skipped(String text, boolean last) {
        where = "BDAT";
        reply(text);
        if (last) {
            resetTransaction();
        } else {
            bdat = true;
            bdatError = true;
        }
        done(SmtpCommand.BDAT, false);
        flush();
    }

    // ---- RSET, VRFY, ETRN ----

    private void rset(List<SmtpTokens.Token> argv) {
        if (argv.size() != 1) {
            fail(SmtpCommand.RSET, "501 5.5.4 Syntax: RSET");
            return;
        }
        resetTransaction();
        reply("250 2.0.0 Ok");
        done(SmtpCommand.RSET, true);
    }

    private void vrfy(List<SmtpTokens.Token> argv) {
        SmtpCommand cmd = SmtpCommand.VRFY;
        if (settings.disableVrfy()) {
            fail(cmd, "502 5.5.1 VRFY command is disabled");
            return;
        }
        if (settings.smtputf8() && argv.size() > 1 && argv.get(argv.size() - 1).text().equalsIgnoreCase("SMTPUTF8")) {
            argv = argv.subList(0, argv.size() - 1); // RFC 6531: a flag, not part of the address
        }
        if (argv.size() < 2) {
            fail(cmd, "501 5.5.4 Syntax: VRFY address" + (settings.smtputf8() ? " [SMTPUTF8]" : ""));
            return;
        }
        String arg = joined(argv, 1);
        String address = extractAddress(arg, false);
        if (address == null) {
            fail(cmd, "501 5.1.3 Bad recipient address syntax");
            return;
        }
        pending();
        checkRecipient(address, "VRFY").whenCompleteAsync((refusal, e) -> {
            if (phase != Phase.COMMANDS) {
                return;
            }
            if (refusal != null) {
                reply(refusal);
                done(cmd, false);
            } else {
                reply("252 2.0.0 " + arg);
                done(cmd, true);
            }
            flush();
        }, ctx.executor());
    }

    private void etrn(List<SmtpTokens.Token> argv) {
        SmtpCommand cmd = SmtpCommand.ETRN;
        if (settings.heloRequired() && heloName == null) {
            fail(cmd, "503 Error: send HELO/EHLO first");
            return;
        }
        if (sender != null) {
            fail(cmd, "503 Error: MAIL transaction in progress");
            return;
        }
        if (argv.size() != 2) {
            fail(cmd, "500 Syntax: ETRN domain");
            return;
        }
        String site = argv.get(1).text();
        if (site.startsWith("@") || site.startsWith("#")) {
            site = site.substring(1);
        }
        if (!Dsn.validHostnameOrLiteral(site)) {
            fail(cmd, "501 Error: invalid parameter syntax");
            return;
        }
        // Postfix hands the site to its flush service; Estafeta has no per-site logs (fast_flush_domains): every
        // deferred message becomes due, the site's among them. Without a queue manager bundle, Postfix's reply for
        // a flush service it cannot reach.
        org.estafeta.queue.QueueFlush flush = services.queueFlush();
        if (flush == null) {
            fail(cmd, "458 Unable to queue messages");
            return;
        }
        flush.flushAll(); // false while no qmgr entry runs: the request is taken, as Postfix's flush service takes it
        reply("250 Queuing started");
        done(cmd, true);
    }

    private void fail(SmtpCommand command, String text) {
        reply(text);
        done(command, false);
    }

    /** Postfix's mail_reset() + rcpt_reset(): forgets the transaction; a message on its way is thrown away. */
    private void resetTransaction() {
        if (pipe != null) {
            pipe.abort();
            pipe = null;
        }
        if (filters != null) {
            filters.reset();
        }
        sender = null;
        saslSender = null;
        mailParameters = Map.of();
        smtputf8 = false;
        recipients.clear();
        lastRecipient = null;
        rcptOvershoot = 0;
        actions = Submission.Actions.NONE;
        deferIfPermit = Optional.empty();
        bdat = false;
        bdatError = false;
    }

    // ------------------------------------------------------------------------------------------------ addresses

    /**
     * Postfix's extract_addr() for the common forms: {@code <addr>}, a bare address, a source route
     * {@code <@a,@b:addr>} (dropped). Returns the address without brackets, or null when it is malformed (several
     * addresses, unbalanced brackets, white space, or empty where it must not be).
     */
    static String extractAddress(String token, boolean allowEmpty) {
        String text = token;
        if (text.startsWith("<") && text.endsWith(">") && text.length() >= 2) {
            text = text.substring(1, text.length() - 1);
        }
        if (text.startsWith("@")) {
            int colon = text.indexOf(':');
            if (colon >= 0) {
                text = text.substring(colon + 1);
            }
        }
        boolean quoted = false;
        StringBuilder sb = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length()) {
                sb.append(text.charAt(++i));
                continue;
            }
            if (c == '"') {
                quoted = !quoted;
                continue;
            }
            if (!quoted && (c == '<' || c == '>' || c == ' ' || c == '\t' || c == ',' || c == ';' || c == '(' || c == ')')) {
                return null;
            }
            sb.append(c);
        }
        if (quoted) {
            return null;
        }
        String address = sb.toString();
        if (address.isEmpty() && !allowEmpty) {
            return null;
        }
        return address;
    }

    private static String joined(List<SmtpTokens.Token> argv, int from) {
        StringBuilder sb = new StringBuilder();
        for (int i = from; i < argv.size(); i++) {
            if (i > from) {
                sb.append(' ');
            }
            sb.append(argv.get(i).text());
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------------------------------------ output

    /**
     * Queues one reply (several lines joined by CRLF). Once the session has made {@code smtpd_soft_error_limit}
     * errors, each reply waits {@code smtpd_error_sleep_time} first, as Postfix's smtpd_chat_reply() sleeps; here
     * the wait is scheduled, never slept, and input stays paused meanwhile. A 421 or 521 reply ends the session.
     */
    private void reply(String text) {
        boolean hangup = text.startsWith("421") || text.startsWith("521");
        boolean sleep = errorCount >= settings.softErrorLimit() && settings.errorSleepMillis() > 0;
        if (delaying || sleep) {
            // Each reply made at or above the soft limit sleeps on its own, as Postfix's smtpd_chat_reply() does;
            // one queued behind a delay only for its order does not.
            delayedReplies.add(new DelayedReply(text, sleep));
            if (hangup) {
                closeAfterDelay = true;
                phase = Phase.CLOSING;
                closedByServer = true;
            }
            if (!delaying) {
                delaying = true;
                if (decoder != null) {
                    decoder.pause();
                }
                ctx.executor().schedule(this::endDelay, settings.errorSleepMillis(), TimeUnit.MILLISECONDS);
            }
            return;
        }
        if (hangup) {
            closeWith(text);
            return;
        }
        write(text);
    }

    private record DelayedReply(String text, boolean sleep) {
    }

    /** The head reply's sleep is over: writes it and what follows without a sleep of its own, then sleeps again. */
    private void endDelay() {
        write(delayedReplies.poll().text());
        while (!delayedReplies.isEmpty() && !delayedReplies.peek().sleep()) {
            write(delayedReplies.poll().text());
        }
        if (!delayedReplies.isEmpty()) {
            flush();
            ctx.executor().schedule(this::endDelay, settings.errorSleepMillis(), TimeUnit.MILLISECONDS);
            return;
        }
        delaying = false;
        if (closeAfterDelay) {
            flushPending = false;
            ctx.writeAndFlush(ctx.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        flush();
        resumeLater();
    }

    private void write(String text) {
        transcript.out(text);
        byte[] bytes = wire(text + "\r\n");
        ByteBuf buf = ctx.alloc().buffer(bytes.length).writeBytes(bytes);
        ctx.write(buf, ctx.voidPromise());
        flushPending = true;
    }

    /**
     * A reply's bytes. Text from the client (an address echoed by VRFY, a reply naming a recipient) is held one char
     * per byte, so it goes back byte for byte, as Postfix sends it; only text that did not come off the wire (a
     * main.cf value with characters beyond U+00FF) is encoded as UTF-8.
     */
    static byte[] wire(String text) {
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) > 0xff) {
                return text.getBytes(StandardCharsets.UTF_8);
            }
        }
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private void flush() {
        if (flushPending && ctx != null) {
            flushPending = false;
            ctx.flush();
        }
    }

    /** Sends a last reply (with whatever is still unflushed before it) and closes once it is written. */
    private void closeWith(String text) {
        if (delaying || errorCount >= settings.softErrorLimit() && settings.errorSleepMillis() > 0) {
            reply(text);
            closeAfterDelay = true;
            phase = Phase.CLOSING;
            closedByServer = true;
            return;
        }
        phase = Phase.CLOSING;
        closedByServer = true;
        ctx.channel().config().setAutoRead(false);
        transcript.out(text);
        byte[] bytes = wire(text + "\r\n");
        flushPending = false;
        ctx.writeAndFlush(ctx.alloc().buffer(bytes.length).writeBytes(bytes)).addListener(ChannelFutureListener.CLOSE);
    }

    /** Lets the decoder go on with the next command, from a fresh event-loop task (never nested in a read). */
    private void resumeLater() {
        ctx.executor().execute(() -> {
            if (phase == Phase.COMMANDS && !commandPending && !delaying && decoder != null && decoder.isPaused()) {
                decoder.resume();
            }
            updateReading();
        });
    }

    /** Reads from the socket unless something says stop: closing, the client not reading, Cleanup behind, input piling up. */
    private void updateReading() {
        if (ctx == null) {
            return;
        }
        boolean read = phase != Phase.CLOSING
                && ctx.channel().isWritable()
                && (pipe == null || pipe.pendingBytes() <= CleanupPipe.LOW_WATER
                        || ctx.channel().config().isAutoRead() && pipe.pendingBytes() <= CleanupPipe.HIGH_WATER)
                && (decoder == null || !decoder.isPaused() || decoder.buffered() <= SmtpLineDecoder.PAUSED_BUFFER_LIMIT);
        if (ctx.channel().config().isAutoRead() != read) {
            ctx.channel().config().setAutoRead(read);
        }
    }

    // ------------------------------------------------------------------------------------------------ logging

    /** Postfix's log_whatsup(): {@code NOQUEUE: reject: RCPT from host[addr]: text; from=<> to=<> proto=ESMTP helo=<>}. */
    private void logWhatsup(String whatsup, String text) {
        StringBuilder sb = new StringBuilder("NOQUEUE: ").append(whatsup).append(": ").append(where).append(" from ")
                .append(namaddr).append(": ").append(text).append(';');
        if (sender != null) {
            sb.append(" from=<").append(sender).append('>');
        }
        if (lastRecipient != null) {
            sb.append(" to=<").append(lastRecipient).append('>');
        }
        sb.append(" proto=").append(protocol);
        if (heloName != null) {
            sb.append(" helo=<").append(heloName).append('>');
        }
        log.info(sb.toString());
    }

    /**
     * Postfix's default {@code smtpd_forbid_cmds = CONNECT GET POST regexp:{{/^[^A-Z]/ Bogus}}}: HTTP verbs, and a
     * verb that does not start with a letter.
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

    /** Whether the line's bytes (one char per byte) are valid UTF-8, as Postfix checks with smtputf8_enable. */
    static boolean validUtf8(String latin1) {
        boolean ascii = true;
        for (int i = 0; i < latin1.length(); i++) {
            if (latin1.charAt(i) >= 0x80) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return true;
        }
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1)));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
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

    Phase phase() {
        return phase;
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
