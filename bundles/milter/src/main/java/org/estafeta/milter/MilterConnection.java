package org.estafeta.milter;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.slf4j.Logger;

/**
 * One milter's connection and protocol state, following Postfix's milter8.c: negotiation, one event at a time with
 * its macros, the replies (including the end-of-message modification requests), SMFIR_SKIP, the persistent
 * "default reply" after an error or a connection-level decision, and the per-milter default action. Blocking
 * (a non-blocking channel waited on with its own selector, so that unix sockets time out like TCP ones); used by
 * one thread at a time (its {@link MilterSession}).
 */
final class MilterConnection implements AutoCloseable {
    /** Postfix's MILTER8_STAT_*. */
    enum State {
        CLOSED, READY, ENVELOPE, MESSAGE, ACCEPT_CON, REJECT_CON, ACCEPT_MSG, ERROR
    }

    static final String REJECTED = "550 5.7.1 Command rejected";
    static final String TEMPFAILED = "451 4.7.1 Service unavailable - try again later";
    static final String SHUTDOWN = "421 4.7.0 Server closing connection";

    private final MilterSpec spec;
    private final String name;
    private final Duration connectTimeout;
    private final Duration commandTimeout;
    private final Duration contentTimeout;
    private final DefaultAction defaultAction;
    private final ProtocolVersion protocol;
    private final Logger log;

    private SocketChannel channel;
    private Selector selector;
    private Duration timeout;
    State state = State.CLOSED;
    /** Postfix's def_reply: returned for every further event once set (null: none). */
    private MilterVerdict defReply;
    int version;
    int actions;
    int events;
    /** Events not defined by the protocol version in use (Postfix's np_mask). */
    private int nonProtocol;
    private byte skipEventType;
    MilterMacros macros;

    // message phase
    private MilterVerdict messageReply;
    private final byte[] body = new byte[Protocol.CHUNK_SIZE];
    private int bodyLength;

    MilterConnection(MilterSpec spec, MilterSettings settings, Logger log) {
        this.spec = spec;
        this.name = spec.address();
        this.connectTimeout = spec.connectTimeout().orElse(settings.connectTimeout());
        this.commandTimeout = spec.commandTimeout().orElse(settings.commandTimeout());
        this.contentTimeout = spec.contentTimeout().orElse(settings.contentTimeout());
        this.defaultAction = spec.defaultAction().orElse(settings.defaultAction());
        this.protocol = settings.protocolOf(spec);
        this.macros = settings.macros();
        this.log = log;
    }

    String name() {
        return name;
    }

    boolean wantsRejectedRecipients() {
        return state != State.ERROR && (events & Protocol.P_RCPT_REJ) != 0;
    }

    /** Whether this milter takes no further events for the current message (or connection). */
    boolean done() {
        return switch (state) {
            case ACCEPT_CON, REJECT_CON, ACCEPT_MSG, ERROR, CLOSED -> true;
            case MESSAGE -> messageReply != null;
            default -> false;
        };
    }

    /** Connects and negotiates (milter8_connect). Errors leave the milter in state ERROR with its default reply. */
    void open() {
        nonProtocol = Protocol.P_NOSEND_MASK & ~protocol.events();
        SocketAddress target = spec.socket();
        try {
            if (target instanceof InetSocketAddress i && i.isUnresolved()) {
                target = new InetSocketAddress(i.getHostString(), i.getPort());
                if (((InetSocketAddress) target).isUnresolved()) {
                    throw new IOException("Host not found: " + i.getHostString());
                }
            }
            channel = target instanceof UnixDomainSocketAddress ? SocketChannel.open(StandardProtocolFamily.UNIX)
                    : SocketChannel.open();
            channel.configureBlocking(false);
            selector = Selector.open();
            if (!channel.connect(target)) {
                SelectionKey key = channel.register(selector, SelectionKey.OP_CONNECT);
                long deadline = System.nanoTime() + connectTimeout.toNanos();
                while (!channel.finishConnect()) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("Connection timed out");
                    }
                    selector.select(Math.max(1, left / 1_000_000));
                    selector.selectedKeys().clear();
                }
                key.cancel();
                selector.selectNow();
            }
        } catch (IOException e) {
            log.warn("connect to Milter service {}: {}", name, why(e));
            commError();
            return;
        }
        timeout = commandTimeout;
        try {
            Packet optneg = new Packet(Protocol.C_OPTNEG).int32(protocol.version()).int32(Protocol.MY_ACTIONS)
                    .int32(protocol.events());
            write(optneg.bytes());
        } catch (IOException e) {
            log.warn("milter {}: error writing command: {}", name, why(e));
            log.warn("milter {}: write error in initial handshake", name);
            commError();
            return;
        }
        Reply r = read(Protocol.C_OPTNEG);
        if (r == null) {
            log.warn("milter {}: read error in initial handshake", name);
            return;
        }
        if (r.command != Protocol.C_OPTNEG) {
            log.warn("milter {}: unexpected reply \"{}\" in initial handshake", name, (char) r.command);
            commError();
            return;
        }
        if (r.data.remaining() < 12) {
            log.warn("milter {}: input packet too short for network long", name);
            log.warn("milter {}: read error in initial handshake", name);
            commError();
            return;
        }
        version = r.data.getInt();
        actions = r.data.getInt();
        events = r.data.getInt();
        if (version > protocol.version()) {
            log.warn("milter {}: protocol version {} conflict with MTA protocol version {}", name, version,
                    protocol.version());
            commError();
            return;
        }
        if ((actions & Protocol.MY_ACTIONS) != actions) {
            log.warn("milter {}: request mask 0x{} conflict with MTA request mask 0x{}", name,
                    Integer.toHexString(actions), Integer.toHexString(Protocol.MY_ACTIONS));
            commError();
            return;
        }
        if (version < protocol.version()) {
            // an older milter: never send it events its version does not define
            nonProtocol |= Protocol.P_NOSEND_MASK & ~Protocol.versionMask(version);
        }
        state = State.READY;
        defReply = null;
        skipEventType = 0;
        // secondary negotiation: the milter's own macro lists (SMFIR_SETSYMLIST data after the masks)
        while (r.data.hasRemaining()) {
            if (r.data.remaining() < 4) {
                log.warn("milter {}: input packet too short for network long", name);
                commError();
                return;
            }
            int type = r.data.getInt();
            String list = string(r);
            if (list == null) {
                return;
            }
            if (type < 0 || type > 6) {
                log.warn("milter {}: ignoring unknown macro type {}", name, type);
            } else {
                macros = macros.with(type, MilterMacros.names(list));
            }
        }
    }

    // ---- events (milter8_*_event); each returns null to go on, or a final verdict

    MilterVerdict connect(String clientName, MilterSession.AddressFamily family, String clientAddr, int port,
            List<String> macroValues) {
        if (state == State.ERROR) {
            return defReply;
        }
        if (state != State.READY) {
            throw new IllegalStateException("milter " + name + ": connect in state " + state);
        }
        state = State.ENVELOPE;
        boolean skipReply = (events & Protocol.P_NR_CONN) != 0;
        // Postfix's "unknown" host name becomes Sendmail's [address]
        String smName = !"unknown".equals(clientName) || "unknown".equals(clientAddr) ? clientName
                : "[" + clientAddr + "]";
        Packet p = new Packet(Protocol.C_CONNECT).string(smName);
        switch (family) {
            case INET -> p.octet(Protocol.A_INET).int16(port).string(clientAddr);
            case INET6 -> p.octet(Protocol.A_INET6).int16(port).string(clientAddr);
            case UNIX -> p.octet(Protocol.A_UNIX).int16(0).string(clientAddr);
            default -> p.octet(Protocol.A_UNKNOWN);
        }
        return event(Protocol.C_CONNECT, Protocol.P_NOCONNECT, skipReply, macroValues, p, null);
    }

    MilterVerdict helo(String heloName, List<String> macroValues) {
        return switch (state) {
            case ERROR, ACCEPT_CON, REJECT_CON -> defReply;
            case ENVELOPE, ACCEPT_MSG -> event(Protocol.C_HELO, Protocol.P_NOHELO,
                    (events & Protocol.P_NR_HELO) != 0, macroValues, new Packet(Protocol.C_HELO).string(heloName), null);
            default -> throw new IllegalStateException("milter " + name + ": helo in state " + state);
        };
    }

    MilterVerdict mail(List<String> argv, List<String> macroValues) {
        if (state == State.ACCEPT_MSG) {
            abort(); // a new transaction after a message-level decision the caller did not abort
        }
        return switch (state) {
            case ERROR, ACCEPT_CON, REJECT_CON -> defReply;
            case ENVELOPE -> event(Protocol.C_MAIL, Protocol.P_NOMAIL, (events & Protocol.P_NR_MAIL) != 0,
                    macroValues, new Packet(Protocol.C_MAIL).strings(argv), null);
            default -> throw new IllegalStateException("milter " + name + ": mail in state " + state);
        };
    }

    MilterVerdict rcpt(List<String> argv, List<String> macroValues) {
        return switch (state) {
            case ERROR, ACCEPT_CON, REJECT_CON, ACCEPT_MSG -> defReply;
            case ENVELOPE -> event(Protocol.C_RCPT, Protocol.P_NORCPT, (events & Protocol.P_NR_RCPT) != 0,
                    macroValues, new Packet(Protocol.C_RCPT).strings(argv), null);
            default -> throw new IllegalStateException("milter " + name + ": rcpt in state " + state);
        };
    }

    MilterVerdict data(List<String> macroValues) {
        return switch (state) {
            case ERROR, ACCEPT_CON, REJECT_CON, ACCEPT_MSG -> defReply;
            case ENVELOPE -> event(Protocol.C_DATA, Protocol.P_NODATA, (events & Protocol.P_NR_DATA) != 0,
                    macroValues, new Packet(Protocol.C_DATA), null);
            default -> throw new IllegalStateException("milter " + name + ": data in state " + state);
        };
    }

    MilterVerdict unknown(String command, List<String> macroValues) {
        return switch (state) {
            case ERROR, ACCEPT_CON, REJECT_CON -> defReply;
            case ENVELOPE, ACCEPT_MSG -> event(Protocol.C_UNKNOWN, Protocol.P_NOUNKNOWN,
                    (events & Protocol.P_NR_UNKN) != 0, macroValues, new Packet(Protocol.C_UNKNOWN).string(command),
                    null);
            default -> throw new IllegalStateException("milter " + name + ": unknown command in state " + state);
        };
    }

    /** Enters the message phase (milter8_message) if this milter takes the message; false when it does not. */
    private boolean inMessage() {
        if (state == State.ENVELOPE) {
            state = State.MESSAGE;
            messageReply = null;
            bodyLength = 0;
            timeout = contentTimeout;
        }
        return state == State.MESSAGE && messageReply == null;
    }

    MilterVerdict header(String headerName, String value, List<String> macroValues) {
        if (!inMessage()) {
            return messageResult();
        }
        if ((events & Protocol.P_NOHDRS) != 0) {
            return messageResult();
        }
        String v = value;
        if ((events & Protocol.P_HDR_LEADSPC) == 0 && v.startsWith(" ")) {
            v = v.substring(1); // Sendmail eats the first space (not tab) after the colon
        }
        messageReply = event(Protocol.C_HEADER, Protocol.P_NOHDRS, (events & Protocol.P_NR_HDR) != 0, macroValues,
                new Packet(Protocol.C_HEADER).string(headerName).string(v), null);
        return messageResult();
    }

    MilterVerdict endOfHeaders(List<String> macroValues) {
        if (!inMessage()) {
            return messageResult();
        }
        if ((events & Protocol.P_NOEOH) != 0) {
            return messageResult();
        }
        messageReply = event(Protocol.C_EOH, Protocol.P_NOEOH, (events & Protocol.P_NR_EOH) != 0, macroValues,
                new Packet(Protocol.C_EOH), null);
        return messageResult();
    }

    /** Buffers body bytes and sends full 65535-byte chunks. */
    MilterVerdict body(byte[] data, int off, int len, List<String> macroValues) {
        if (!inMessage()) {
            return messageResult();
        }
        if ((events & Protocol.P_NOBODY) != 0) {
            return messageResult();
        }
        int done = 0;
        while (done < len) {
            int n = Math.min(len - done, body.length - bodyLength);
            System.arraycopy(data, off + done, body, bodyLength, n);
            bodyLength += n;
            done += n;
            if (bodyLength == body.length) {
                messageReply = sendBodyChunk(macroValues);
                if (messageReply != null || state != State.MESSAGE) {
                    break;
                }
            }
        }
        return messageResult();
    }

    private MilterVerdict sendBodyChunk(List<String> macroValues) {
        Packet p = new Packet(Protocol.C_BODY).bytes(body, 0, bodyLength);
        bodyLength = 0;
        return event(Protocol.C_BODY, Protocol.P_NOBODY, (events & Protocol.P_NR_BODY) != 0, macroValues, p, null);
    }

    /**
     * Flushes the body and sends SMFIC_BODYEOB (milter8_eob), collecting modifications into {@code edits}. Returns
     * the milter's verdict for the message; the milter is back in the envelope state afterwards.
     */
    MilterVerdict endOfMessage(List<String> macroValues, List<MilterAction> edits) {
        MilterVerdict v;
        if (!inMessage()) {
            v = messageResult();
        } else {
            if (bodyLength > 0 && (events & Protocol.P_NOBODY) == 0) {
                messageReply = sendBodyChunk(macroValues);
            }
            if (messageReply == null && state == State.MESSAGE) {
                messageReply = event(Protocol.C_BODYEOB, 0, false, macroValues, new Packet(Protocol.C_BODYEOB), edits);
            }
            v = messageResult();
        }
        endMessage();
        return v;
    }

    private MilterVerdict messageResult() {
        return messageReply != null ? messageReply : defReply;
    }

    private void endMessage() {
        if (state == State.MESSAGE || state == State.ACCEPT_MSG) {
            state = State.ENVELOPE;
        }
        if (channel != null) {
            timeout = commandTimeout;
        }
        messageReply = null;
        bodyLength = 0;
    }

    /** SMFIC_ABORT (milter8_abort): ends the current transaction; the milter waits for the next MAIL FROM. */
    void abort() {
        switch (state) {
            case ENVELOPE, MESSAGE, ACCEPT_MSG -> {
                try {
                    write(new Packet(Protocol.C_ABORT).bytes());
                } catch (IOException e) {
                    log.warn("milter {}: error writing command: {}", name, why(e));
                    commError();
                }
                messageReply = null;
                bodyLength = 0;
                if (channel != null) {
                    timeout = commandTimeout;
                }
                if (state != State.ERROR) {
                    state = State.ENVELOPE;
                }
            }
            default -> {
            }
        }
    }

    /** SMFIC_QUIT and close (milter8_disc_event). */
    @Override
    public void close() {
        if (channel != null && state != State.ERROR) {
            try {
                write(new Packet(Protocol.C_QUIT).bytes());
            } catch (IOException e) {
                // closing anyway
            }
        }
        closeChannel();
        if (state != State.ERROR) {
            state = State.CLOSED;
        }
    }

    private void closeChannel() {
        try {
            if (channel != null) {
                channel.close();
            }
            if (selector != null) {
                selector.close();
            }
        } catch (IOException e) {
            // nothing to recover
        }
        channel = null;
        selector = null;
    }

    // ---- milter8_event

    private MilterVerdict event(byte cmd, int skipFlag, boolean skipReply, List<String> macroValues, Packet packet,
            List<MilterAction> edits) {
        if (channel == null || defReply != null) {
            return defReply;
        }
        if ((skipFlag & nonProtocol) != 0) {
            return defReply;
        }
        if (skipEventType != 0) {
            if (cmd == skipEventType) {
                return defReply;
            }
            skipEventType = 0;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (macroValues != null) {
            out.writeBytes(new Packet(Protocol.C_MACRO).octet(cmd).strings(macroValues).bytes());
        }
        boolean send = (skipFlag & events) == 0;
        if (send) {
            out.writeBytes(packet.bytes());
        }
        try {
            write(out.toByteArray());
        } catch (IOException e) {
            log.warn("milter {}: error writing command: {}", name, why(e));
            return commError();
        }
        if (!send || skipReply) {
            return defReply;
        }
        return replies(cmd, edits);
    }

    private MilterVerdict replies(byte event, List<MilterAction> edits) {
        boolean inConnect = event == Protocol.C_CONNECT || event == Protocol.C_HELO;
        BodyReplacement replacing = null;
        boolean bodyLockout = false;
        String quarantine = null;
        MilterVerdict result;
        try {
            while (true) {
                Reply r = read(event);
                if (r == null) {
                    result = defReply;
                    break;
                }
                if (replacing != null && r.command != Protocol.R_REPLBODY) {
                    replacing.finish();
                    edits.add(new MilterAction.ReplaceBody(replacing));
                    replacing = null;
                    bodyLockout = true;
                }
                byte c = r.command;
                if (c == Protocol.R_PROGRESS && !r.data.hasRemaining()) {
                    continue;
                } else if (c == Protocol.R_CONTINUE && !r.data.hasRemaining()) {
                    result = defReply;
                    break;
                } else if (c == Protocol.R_ACCEPT && !r.data.hasRemaining()) {
                    state = inConnect ? State.ACCEPT_CON : State.ACCEPT_MSG;
                    result = defReply;
                    break;
                } else if (c == Protocol.R_DISCARD && !r.data.hasRemaining()) {
                    if (inConnect) {
                        log.warn("milter {}: DISCARD action is not allowed for connect or helo", name);
                        result = defReply;
                    } else {
                        state = State.ACCEPT_MSG;
                        result = new MilterVerdict(MilterVerdict.Action.DISCARD, "", name);
                    }
                    break;
                } else if ((c == Protocol.R_REJECT || c == Protocol.R_TEMPFAIL) && !r.data.hasRemaining()) {
                    MilterVerdict v = MilterVerdict.reply(c == Protocol.R_REJECT ? REJECTED : TEMPFAILED, name);
                    if (inConnect) {
                        state = State.REJECT_CON;
                        defReply = v;
                    }
                    result = v;
                    break;
                } else if (c == Protocol.R_SHUTDOWN && !r.data.hasRemaining()) {
                    state = State.REJECT_CON;
                    defReply = new MilterVerdict(MilterVerdict.Action.SHUTDOWN, SHUTDOWN, name);
                    result = defReply;
                    break;
                } else if (c == Protocol.R_REPLYCODE) {
                    byte[] raw = new byte[r.data.remaining()];
                    r.data.get(raw);
                    int len = raw.length > 0 && raw[raw.length - 1] == 0 ? raw.length - 1 : raw.length;
                    String text = new String(raw, 0, len, StandardCharsets.ISO_8859_1);
                    if (!ReplyText.valid(raw, len)) {
                        log.warn("milter {}: malformed reply: {}", name, text);
                        result = confError();
                        break;
                    }
                    MilterVerdict v = MilterVerdict.reply(ReplyText.unpercent(text), name);
                    if (inConnect) {
                        state = State.REJECT_CON;
                        defReply = v;
                    }
                    result = v;
                    break;
                } else if (c == Protocol.R_QUARANTINE) {
                    String reason = string(r);
                    if (reason == null) {
                        result = defReply;
                        break;
                    }
                    quarantine = reason.length() > 100 ? reason.substring(0, 100) : reason;
                    continue;
                } else if (c == Protocol.R_SKIP && !r.data.hasRemaining()) {
                    skipEventType = event;
                    result = defReply;
                    break;
                } else if (event == Protocol.C_BODYEOB && isEdit(c)) {
                    if (c == Protocol.R_REPLBODY) {
                        if (bodyLockout) {
                            log.warn("milter {}: body replacement requests can't currently be mixed with"
                                    + " other requests", name);
                            result = confError();
                            break;
                        }
                        if (replacing == null) {
                            replacing = new BodyReplacement();
                        }
                        replacing.append(r.data.array(), r.data.arrayOffset() + r.data.position(),
                                r.data.remaining());
                        continue;
                    }
                    MilterVerdict bad = edit(c, r, edits);
                    if (bad != null || state == State.ERROR) {
                        result = bad;
                        break;
                    }
                    continue;
                }
                if (isNoDataReply(c) && r.data.hasRemaining()) {
                    log.warn("milter {}: reply {} was followed by {} data bytes", name,
                            Protocol.replyName(c), r.data.remaining());
                } else {
                    log.warn("milter {}: unexpected filter response {} after event {}", name,
                            Protocol.replyName(c), Protocol.commandName(event));
                }
                result = commError();
                break;
            }
        } catch (IOException e) {
            log.warn("milter {}: cannot spool the replacement body: {}", name, why(e));
            result = MilterVerdict.reply("451 4.3.0 Queue file write error", name);
        }
        if (replacing != null) {
            replacing.close();
            if (result == null || !result.isFinal()) {
                result = MilterVerdict.reply("421 4.7.0 Service unavailable", name);
            }
        }
        if (quarantine != null && (result == null || !result.isFinal())) {
            result = new MilterVerdict(MilterVerdict.Action.QUARANTINE, quarantine, name);
        }
        return result;
    }

    private static boolean isNoDataReply(byte c) {
        return c == Protocol.R_PROGRESS || c == Protocol.R_CONTINUE || c == Protocol.R_ACCEPT
                || c == Protocol.R_DISCARD || c == Protocol.R_REJECT || c == Protocol.R_TEMPFAIL
                || c == Protocol.R_SHUTDOWN || c == Protocol.R_SKIP;
    }

    private static boolean isEdit(byte c) {
        return c == Protocol.R_CHGHEADER || c == Protocol.R_ADDHEADER || c == Protocol.R_INSHEADER
                || c == Protocol.R_CHGFROM || c == Protocol.R_ADDRCPT || c == Protocol.R_ADDRCPT_PAR
                || c == Protocol.R_DELRCPT || c == Protocol.R_REPLBODY;
    }

    /** One modification request; returns a verdict only when it breaks the protocol or configuration. */
    private MilterVerdict edit(byte c, Reply r, List<MilterAction> edits) {
        String space = (events & Protocol.P_HDR_LEADSPC) != 0 ? "" : " ";
        switch (c) {
            case Protocol.R_CHGHEADER -> {
                Integer index = int32(r);
                String hname = index == null ? null : string(r);
                String value = hname == null ? null : string(r);
                if (value == null || leftOver(r)) {
                    return defReply;
                }
                int i = index == 0 ? 1 : index; // Sendmail 8 compatibility
                if (i < 1) {
                    log.warn("milter {}: bad change header index: {}", name, i);
                    return confError();
                }
                if (hname.isEmpty()) {
                    log.warn("milter {}: null change header name", name);
                    return confError();
                }
                edits.add(value.isEmpty() ? new MilterAction.DeleteHeader(i, hname)
                        : new MilterAction.ChangeHeader(i, hname, space + value));
            }
            case Protocol.R_ADDHEADER -> {
                String hname = string(r);
                String value = hname == null ? null : string(r);
                if (value == null || leftOver(r)) {
                    return defReply;
                }
                edits.add(new MilterAction.AddHeader(hname, space + value));
            }
            case Protocol.R_INSHEADER -> {
                Integer index = int32(r);
                String hname = index == null ? null : string(r);
                String value = hname == null ? null : string(r);
                if (value == null || leftOver(r)) {
                    return defReply;
                }
                if (index < 0) {
                    log.warn("milter {}: bad insert header index: {}", name, index);
                    return confError();
                }
                edits.add(new MilterAction.InsertHeader(index, hname, space + value));
            }
            case Protocol.R_CHGFROM, Protocol.R_ADDRCPT_PAR -> {
                String address = string(r);
                if (address == null) {
                    return defReply;
                }
                String args = "";
                if (r.data.hasRemaining()) {
                    args = string(r);
                    if (args == null || leftOver(r)) {
                        return defReply;
                    }
                }
                edits.add(c == Protocol.R_CHGFROM ? new MilterAction.ChangeSender(address, args)
                        : new MilterAction.AddRecipient(address, args));
            }
            case Protocol.R_ADDRCPT, Protocol.R_DELRCPT -> {
                String address = string(r);
                if (address == null || leftOver(r)) {
                    return defReply;
                }
                edits.add(c == Protocol.R_ADDRCPT ? new MilterAction.AddRecipient(address, "")
                        : new MilterAction.DeleteRecipient(address));
            }
            default -> throw new IllegalArgumentException("not an edit: " + (char) c);
        }
        return null;
    }

    // ---- errors (milter8_comm_error, milter8_conf_error)

    /** A read/write/format error: drop the connection and answer with the default action from now on. */
    private MilterVerdict commError() {
        closeChannel();
        state = State.ERROR;
        defReply = switch (defaultAction) {
            case ACCEPT -> null;
            case REJECT -> MilterVerdict.reply("550 5.5.0 Service unavailable", name);
            case TEMPFAIL -> MilterVerdict.reply(TEMPFAILED, name);
            case QUARANTINE -> new MilterVerdict(MilterVerdict.Action.QUARANTINE, "default_action", name);
        };
        return defReply;
    }

    /** A local or remote configuration error (bad reply text, bad header index). */
    private MilterVerdict confError() {
        closeChannel();
        state = State.ERROR;
        defReply = switch (defaultAction) {
            case ACCEPT -> null;
            case QUARANTINE -> new MilterVerdict(MilterVerdict.Action.QUARANTINE, "default_action", name);
            default -> MilterVerdict.reply("451 4.3.5 Server configuration problem - try again later", name);
        };
        return defReply;
    }

    // ---- wire

    private record Reply(byte command, ByteBuffer data) {
    }

    /** Reads one reply packet; null after an error (already handled by {@link #commError()}). */
    private Reply read(byte event) {
        ByteBuffer header = ByteBuffer.allocate(4);
        try {
            readFully(header);
        } catch (IOException e) {
            log.warn("milter {}: can't read {} reply packet header: {}", name, Protocol.commandName(event),
                    why(e));
            commError();
            return null;
        }
        int len = header.flip().getInt();
        if (len < 1) {
            log.warn("milter {}: bad packet length: {}", name, len);
            commError();
            return null;
        }
        if (len > Protocol.MAX_PACKET) {
            log.warn("milter {}: unreasonable packet length: {} > {}", name, len, Protocol.MAX_PACKET);
            commError();
            return null;
        }
        ByteBuffer packet = ByteBuffer.allocate(len);
        try {
            readFully(packet);
        } catch (IOException e) {
            log.warn("milter {}: EOF while reading data: {}", name, why(e));
            commError();
            return null;
        }
        packet.flip();
        byte cmd = packet.get();
        return new Reply(cmd, packet.slice());
    }

    private Integer int32(Reply r) {
        if (r.data.remaining() < 4) {
            log.warn("milter {}: input packet too short for network long", name);
            commError();
            return null;
        }
        return r.data.getInt();
    }

    private String string(Reply r) {
        ByteBuffer d = r.data;
        for (int i = d.position(); i < d.limit(); i++) {
            if (d.get(i) == 0) {
                byte[] s = new byte[i - d.position()];
                d.get(s);
                d.get(); // the terminator
                return new String(s, StandardCharsets.UTF_8);
            }
        }
        log.warn("milter {}: missing string null terminator", name);
        commError();
        return null;
    }

    private boolean leftOver(Reply r) {
        if (r.data.hasRemaining()) {
            log.warn("milter {}: left-over data {} bytes", name, r.data.remaining());
            commError();
            return true;
        }
        return false;
    }

    private void readFully(ByteBuffer b) throws IOException {
        transfer(b, SelectionKey.OP_READ, buf -> {
            int n = channel.read(buf);
            if (n < 0) {
                throw new EOFException("Unexpected EOF");
            }
            return n;
        });
    }

    private void write(byte[] data) throws IOException {
        if (channel == null) {
            throw new IOException("not connected");
        }
        transfer(ByteBuffer.wrap(data), SelectionKey.OP_WRITE, channel::write);
    }

    /** One non-blocking read or write; the bytes moved (0: try again when the channel is ready). */
    @FunctionalInterface
    private interface Io {
        int move(ByteBuffer b) throws IOException;
    }

    /**
     * Moves all of {@code b} with {@code io}, waiting on the selector for {@code op} whenever the channel is not
     * ready, until the command's timeout: then {@code Connection timed out}, as Postfix's milter8 says.
     */
    private void transfer(ByteBuffer b, int op, Io io) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        SelectionKey key = null;
        try {
            while (b.hasRemaining()) {
                if (io.move(b) == 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new SocketTimeoutException("Connection timed out");
                    }
                    if (key == null) {
                        key = channel.register(selector, op);
                    }
                    selector.select(Math.max(1, left / 1_000_000));
                    selector.selectedKeys().clear();
                }
            }
        } finally {
            if (key != null) {
                key.cancel();
                selector.selectNow();
            }
        }
    }

    private static String why(IOException e) {
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }

    /** An MTA command packet being built: length, command byte, data. */
    static final class Packet {
        private final ByteArrayOutputStream data = new ByteArrayOutputStream();
        private final byte command;

        Packet(byte command) {
            this.command = command;
        }

        Packet octet(byte b) {
            data.write(b);
            return this;
        }

        Packet int16(int v) {
            data.write(v >>> 8 & 0xff);
            data.write(v & 0xff);
            return this;
        }

        Packet int32(int v) {
            data.write(v >>> 24);
            data.write(v >>> 16 & 0xff);
            data.write(v >>> 8 & 0xff);
            data.write(v & 0xff);
            return this;
        }

        Packet string(String s) {
            data.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            data.write(0);
            return this;
        }

        Packet strings(List<String> list) {
            list.forEach(this::string);
            return this;
        }

        Packet bytes(byte[] b, int off, int len) {
            data.write(b, off, len);
            return this;
        }

        byte[] bytes() {
            byte[] d = data.toByteArray();
            ByteBuffer b = ByteBuffer.allocate(5 + d.length);
            b.putInt(d.length + 1).put(command).put(d);
            return b.array();
        }
    }
}
