package org.estafeta.smtpd;

import java.io.IOException;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslMechanismInfo;
import org.estafeta.api.sasl.SaslServer;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.SnapshotPluginContext;

/**
 * One smtpd instance's SMTP AUTH setup (RFC 4954), from main.cf with the service's master.cf {@code -o} overrides:
 * whether AUTH is on ({@code smtpd_sasl_auth_enable}), the back end ({@code smtpd_sasl_type}, a
 * {@link SaslServer} service found by type when it is needed, so a back-end bundle may come and go), the security
 * options with and without TLS, and the limits. Postfix's smtpd_sasl_glue.c and smtpd_sasl_proto.c are the model.
 */
final class SmtpdSasl {
    static final SmtpdSasl OFF = new SmtpdSasl(false, "cyrus", Set.of(), Set.of(), false, false, Networks.NONE, 12288, 0,
            "", type -> null, null, false);

    /** Postfix's security option words and the mechanism flags each hides (no...) or requires (the others). */
    enum Option {
        NOANONYMOUS(SaslMechanismInfo.Flag.ANONYMOUS, false),
        NOPLAINTEXT(SaslMechanismInfo.Flag.PLAINTEXT, false),
        NODICTIONARY(SaslMechanismInfo.Flag.DICTIONARY, false),
        NOACTIVE(SaslMechanismInfo.Flag.ACTIVE, false),
        MUTUAL_AUTH(SaslMechanismInfo.Flag.MUTUAL_AUTH, true),
        FORWARD_SECRECY(SaslMechanismInfo.Flag.FORWARD_SECRECY, true);

        final SaslMechanismInfo.Flag flag;
        final boolean required;

        Option(SaslMechanismInfo.Flag flag, boolean required) {
            this.flag = flag;
            this.required = required;
        }
    }

    private final boolean enabled;
    private final String type;
    private final Set<Option> plainOptions;
    private final Set<Option> tlsOptions;
    private final boolean tlsAuthOnly;
    private final boolean brokenClients;
    private final Networks exceptions;
    private final int responseLimit;
    private final int authRateLimit;
    private final String realm;
    private final Function<String, SaslServer> servers;
    private final PluginContext context;
    private final boolean authenticatedHeader;

    SmtpdSasl(boolean enabled, String type, Set<Option> plainOptions, Set<Option> tlsOptions, boolean tlsAuthOnly,
            boolean brokenClients, Networks exceptions, int responseLimit, int authRateLimit, String realm,
            Function<String, SaslServer> servers, PluginContext context, boolean authenticatedHeader) {
        this.enabled = enabled;
        this.type = type;
        this.plainOptions = plainOptions;
        this.tlsOptions = tlsOptions;
        this.tlsAuthOnly = tlsAuthOnly;
        this.brokenClients = brokenClients;
        this.exceptions = exceptions;
        this.responseLimit = responseLimit;
        this.authRateLimit = authRateLimit;
        this.realm = realm;
        this.servers = servers;
        this.context = context;
        this.authenticatedHeader = authenticatedHeader;
    }

    /** @throws IllegalArgumentException naming the parameter and the bad value (smtpd does not start) */
    static SmtpdSasl from(ConfigSnapshot config, Function<String, SaslServer> servers) {
        boolean enabled = config.bool("smtpd_sasl_auth_enable");
        String type = config.value("smtpd_sasl_type").strip().toLowerCase(Locale.ROOT);
        if (type.isEmpty()) {
            throw new IllegalArgumentException("smtpd_sasl_type is empty");
        }
        return new SmtpdSasl(enabled, type,
                options("smtpd_sasl_security_options", config.list("smtpd_sasl_security_options")),
                options("smtpd_sasl_tls_security_options", config.list("smtpd_sasl_tls_security_options")),
                // Postfix: var_smtpd_tls_auth_only = var_smtpd_tls_auth_only || var_smtpd_enforce_tls
                config.bool("smtpd_tls_auth_only") || org.estafeta.tls.TlsPolicy.of(config) == org.estafeta.tls.TlsPolicy.ENCRYPT,
                config.bool("broken_sasl_auth_clients"),
                Networks.parse("smtpd_sasl_exceptions_networks", config.list("smtpd_sasl_exceptions_networks")),
                (int) Math.min(Integer.MAX_VALUE, Math.max(1, config.integer("smtpd_sasl_response_limit"))),
                (int) Math.min(Integer.MAX_VALUE, Math.max(0, config.integer("smtpd_client_auth_rate_limit"))),
                config.value("smtpd_sasl_local_domain").strip(),
                servers,
                new SnapshotPluginContext(config, "smtpd"),
                config.bool("smtpd_sasl_authenticated_header"));
    }

    /** Postfix's xsasl option words; an unknown word stops smtpd, as Postfix's "unknown SASL security option". */
    static Set<Option> options(String parameter, List<String> words) {
        Set<Option> set = EnumSet.noneOf(Option.class);
        for (String w : words) {
            String word = w.strip().toLowerCase(Locale.ROOT);
            if (word.isEmpty()) {
                continue;
            }
            try {
                set.add(Option.valueOf(word.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown SASL security option \"" + w.strip() + "\" in " + parameter);
            }
        }
        return Set.copyOf(set);
    }

    /**
     * Postfix's smtpd_sasl_is_active(): AUTH is on for this session. With {@code smtpd_tls_auth_only = yes} it is
     * off until STARTTLS completes (Postfix activates SASL only then).
     */
    boolean active(boolean tls) {
        return enabled && (tls || !tlsAuthOnly);
    }

    /** Whether EHLO hides AUTH from this client ({@code smtpd_sasl_exceptions_networks}). */
    boolean exception(InetAddress client) {
        return client != null && exceptions.contains(client);
    }

    boolean brokenClients() {
        return brokenClients;
    }

    int responseLimit() {
        return responseLimit;
    }

    int authRateLimit() {
        return authRateLimit;
    }

    String realm() {
        return realm;
    }

    String type() {
        return type;
    }

    PluginContext context() {
        return context;
    }

    boolean authenticatedHeader() {
        return authenticatedHeader;
    }

    /** The back end, or an IOException naming the type and the bundles that provide the built-in ones. */
    SaslServer server() throws IOException {
        SaslServer s = servers.apply(type);
        if (s == null) {
            String bundle = type.equals("dovecot") ? "estafeta-sasl-dovecot"
                    : type.equals("cyrus") || type.equals("estafeta") ? "estafeta-sasl" : null;
            throw new IOException("SASL type \"" + type + "\" (smtpd_sasl_type) is not available"
                    + (bundle != null ? ": bundle " + bundle + " is not installed or not active" : ": no bundle provides it"));
        }
        return s;
    }

    /**
     * The mechanism names to announce and accept in a session, in the back end's order, filtered with
     * {@code smtpd_sasl_security_options} or, in a TLS session, {@code smtpd_sasl_tls_security_options}. Blocking
     * (the back end may be a socket away): call it off the event loop.
     */
    List<String> mechanisms(boolean tls) throws IOException {
        Set<Option> options = tls ? tlsOptions : plainOptions;
        List<String> names = new ArrayList<>();
        for (SaslMechanismInfo m : server().mechanisms(context)) {
            if (allowed(m, options)) {
                names.add(m.name());
            }
        }
        return names;
    }

    static boolean allowed(SaslMechanismInfo m, Set<Option> options) {
        for (Option o : options) {
            if (o.required != m.flags().contains(o.flag)) {
                return false;
            }
        }
        return true;
    }
}
