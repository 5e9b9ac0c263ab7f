package org.estafeta.sasl.dovecot;

import java.io.IOException;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

import org.estafeta.api.message.Reply;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslSession;
import org.estafeta.api.sasl.SaslStep;

/**
 * One AUTH exchange relayed to Dovecot: the first {@link #respond} sends {@code AUTH} (with {@code resp=} when the
 * client gave an initial response), later ones {@code CONT}; Dovecot's {@code CONT} becomes a
 * {@link SaslStep.Challenge}, {@code OK} a {@link SaslStep.Success} with its {@code user=}, and {@code FAIL} a
 * {@link SaslStep.Failure} with Postfix's reply {@code 535 5.7.8 Error: authentication failed: REASON} (the reason
 * Dovecot gave, or {@code (reason unavailable)}). A {@code FAIL} that Dovecot flags as temporary ({@code temp},
 * {@code code=temp_fail}), a lost connection and a timeout are {@link IOException}s, so smtpd answers {@code 454}.
 *
 * <p><b>Threading:</b> one session, one call at a time (the {@link SaslExchange} contract). <b>Blocking:</b> each
 * call waits for Dovecot for at most {@code estafeta_dovecot_auth_timeout}. The client's responses are never
 * logged.
 */
final class DovecotExchange implements SaslExchange {
    private static final String FAILED = "Error: authentication failed: ";

    private final DovecotSaslServer server;
    private final AuthSettings settings;
    private final String mechanism;
    private final SaslSession session;
    private final System.Logger log;
    private AuthConnection connection;
    private long id;
    private boolean done;

    DovecotExchange(DovecotSaslServer server, AuthSettings settings, String mechanism, SaslSession session,
            System.Logger log) {
        this.server = server;
        this.settings = settings;
        this.mechanism = mechanism;
        this.session = session;
        this.log = log;
    }

    @Override
    public SaslStep respond(byte[] response) throws IOException {
        if (done) {
            throw new IllegalStateException("the " + mechanism + " exchange has ended");
        }
        done = true; // until Dovecot asks for more
        AuthReply reply;
        if (connection == null) {
            reply = begin(response);
            if (reply == null) {
                return failure("Invalid authentication mechanism: '" + TabEscape.printableAscii(mechanism) + "'");
            }
        } else {
            String data = Base64.getEncoder().encodeToString(response == null ? new byte[0] : response);
            CompletableFuture<AuthReply> f = connection.send(id, "CONT\t" + id + "\t" + data, settings.timeout());
            reply = connection.await(id, f, settings.timeout());
        }
        SaslStep step = interpret(reply);
        done = !(step instanceof SaslStep.Challenge);
        return step;
    }

    /** Sends AUTH (on a fresh connection once more when the shared one turns out dead); null: unknown mechanism. */
    private AuthReply begin(byte[] initial) throws IOException {
        for (int attempt = 0; ; attempt++) {
            AuthConnection c = server.connection(settings, log);
            Optional<String> name = c.mechanisms().stream().map(SaslMechanismInfo::name)
                    .filter(n -> n.equalsIgnoreCase(mechanism)).findFirst();
            if (name.isEmpty()) {
                // never sent: Dovecot drops the whole connection on an unknown mechanism
                return null;
            }
            long requestId = c.nextId();
            CompletableFuture<AuthReply> f;
            try {
                f = c.send(requestId, authLine(requestId, name.get(), initial), settings.timeout());
            } catch (IOException e) {
                if (attempt == 0) {
                    continue;
                }
                throw e;
            }
            connection = c;
            id = requestId;
            return c.await(requestId, f, settings.timeout());
        }
    }

    private String authLine(long requestId, String mech, byte[] initial) {
        StringBuilder sb = new StringBuilder(128).append("AUTH\t").append(requestId).append('\t').append(mech)
                .append("\tservice=").append(TabEscape.escape(settings.service())).append("\tnologin");
        if (!session.localAddress().isEmpty()) {
            sb.append("\tlip=").append(TabEscape.escape(session.localAddress()));
        }
        if (!session.client().address().isEmpty()) {
            sb.append("\trip=").append(TabEscape.escape(session.client().address()));
        }
        if (session.localPort() > 0) {
            sb.append("\tlport=").append(session.localPort());
        }
        if (session.clientPort() > 0) {
            sb.append("\trport=").append(session.clientPort());
        }
        if (session.client().tls()) {
            sb.append("\tsecured");
        }
        if (initial != null) {
            // "=" is Dovecot's empty initial response; resp must be the last parameter
            sb.append("\tresp=").append(initial.length == 0 ? "=" : Base64.getEncoder().encodeToString(initial));
        }
        return sb.toString();
    }

    private SaslStep interpret(AuthReply reply) throws IOException {
        String name = settings.socket().name();
        switch (reply.command()) {
            case "OK" -> {
                Optional<String> user = reply.field("user");
                if (user.isEmpty() || user.get().isEmpty()) {
                    log.log(System.Logger.Level.WARNING, "missing Dovecot server OK username field");
                    return failure("Authentication backend error");
                }
                return new SaslStep.Success(TabEscape.printable(user.get()));
            }
            case "CONT" -> {
                if (reply.args().isEmpty()) {
                    log.log(System.Logger.Level.WARNING, "missing Dovecot server CONT reply field");
                    return failure("Authentication backend error");
                }
                try {
                    return new SaslStep.Challenge(Base64.getDecoder().decode(reply.args().get(0)));
                } catch (IllegalArgumentException e) {
                    throw new IOException("SASL: Protocol error: bad base64 challenge from Dovecot auth socket '"
                            + name + "'");
                }
            }
            default -> {
                Optional<String> reason = reply.field("reason").map(TabEscape::printableAscii)
                        .filter(r -> !r.isBlank());
                if (reply.flag("temp") || reply.field("code").filter("temp_fail"::equals).isPresent()) {
                    throw new IOException("SASL: Dovecot auth socket '" + name + "' reports a temporary failure"
                            + reason.map(r -> ": " + r).orElse(""));
                }
                return failure(reason.orElse("(reason unavailable)"));
            }
        }
    }

    private static SaslStep.Failure failure(String reason) {
        return new SaslStep.Failure(Reply.reject(535, "5.7.8", FAILED + reason));
    }
}
