package org.estafeta.transport.smtp.internal;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

import org.estafeta.config.ConfigValues;

/**
 * The client SASL parameters of one delivery ({@code smtp_sasl_*}, or {@code lmtp_sasl_*} for lmtp), checked as
 * Postfix's smtp_sasl_initialize() and the Cyrus client's option parser check them.
 *
 * @param enabled {@code *_sasl_auth_enable}
 * @param passwordMaps {@code *_sasl_password_maps}, in order
 * @param securityOptions {@code *_sasl_security_options}: the options of a plain-text session
 * @param tlsSecurityOptions {@code *_sasl_tls_security_options}: after STARTTLS
 * @param tlsVerifiedSecurityOptions {@code *_sasl_tls_verified_security_options}: after STARTTLS with a server
 *        certificate that was verified ({@code verify}, {@code secure})
 * @param mechanismFilter {@code *_sasl_mechanism_filter} (empty: every mechanism the server offers)
 * @param senderDependent {@code smtp_sender_dependent_authentication} (never for lmtp, as in Postfix)
 * @param softBounce {@code *_sasl_auth_soft_bounce}: a 5xx AUTH reply defers instead of bouncing
 */
record SaslSettings(String prefix, boolean enabled, List<String> passwordMaps, Set<String> securityOptions,
        Set<String> tlsSecurityOptions, Set<String> tlsVerifiedSecurityOptions, List<String> mechanismFilter,
        boolean senderDependent, boolean softBounce) {

    /** The Cyrus client's security option names (xsasl_cyrus_security.c). */
    static final Set<String> OPTIONS = Set.of("noplaintext", "noactive", "nodictionary", "forward_secrecy",
            "noanonymous", "mutual_auth");

    /**
     * Reads the parameters; {@code text} gives a parameter's value by its suffix ({@code sasl_auth_enable}), null
     * for a name neither main.cf nor the defaults know.
     *
     * @throws IllegalArgumentException when authentication is enabled and the configuration is one Postfix's smtp
     *         client refuses to run with (no password table, an unknown security option or SASL type); the message
     *         is the warning to log
     */
    static SaslSettings from(String prefix, boolean lmtp, Function<String, String> text) {
        boolean enabled = ConfigValues.bool(prefix + "sasl_auth_enable", text.apply("sasl_auth_enable"));
        List<String> maps = ConfigValues.list(text.apply("sasl_password_maps"));
        String plain = text.apply("sasl_security_options");
        String tls = orElse(text.apply("sasl_tls_security_options"), plain);
        String verified = orElse(text.apply("sasl_tls_verified_security_options"), tls);
        boolean senderDependent = !lmtp && ConfigValues.bool("smtp_sender_dependent_authentication",
                orElse(text.apply("sender_dependent_authentication"), "no"));
        boolean softBounce = ConfigValues.bool(prefix + "sasl_auth_soft_bounce",
                orElse(text.apply("sasl_auth_soft_bounce"), "yes"));
        List<String> filter = ConfigValues.list(orElse(text.apply("sasl_mechanism_filter"), ""));
        if (enabled) {
            if (maps.isEmpty()) {
                throw new IllegalArgumentException("specify a password table via the `" + prefix
                        + "sasl_password_maps' configuration parameter");
            }
            String type = orElse(text.apply("sasl_type"), "cyrus").strip();
            if (!type.equalsIgnoreCase("cyrus") && !type.equalsIgnoreCase("estafeta")) {
                throw new IllegalArgumentException("unsupported SASL client implementation: " + type
                        + " (" + prefix + "sasl_type; the client's mechanisms are built in: cyrus)");
            }
        }
        return new SaslSettings(prefix, enabled, maps, options(enabled, plain), options(enabled, tls),
                options(enabled, verified), filter, senderDependent, softBounce);
    }

    private static String orElse(String value, String fallback) {
        return value == null ? fallback : value;
    }

    /** name_mask_opt(): names separated by white space or commas; an unknown one is a configuration error. */
    private static Set<String> options(boolean check, String value) {
        Set<String> out = new LinkedHashSet<>();
        for (String s : (value == null ? "" : value).strip().split("[\\s,]+")) {
            if (s.isEmpty()) {
                continue;
            }
            String name = s.toLowerCase(Locale.ROOT);
            if (!OPTIONS.contains(name)) {
                if (check) {
                    throw new IllegalArgumentException("unknown SASL security options value \"" + s + "\" in \""
                            + value.strip() + "\"");
                }
                continue;
            }
            out.add(name);
        }
        return Set.copyOf(out);
    }

    /**
     * sasl_mech_filter(): the server's mechanisms that {@code *_sasl_mechanism_filter} lets through, in the
     * server's order. Filter elements are names compared without regard to case, {@code !name} excludes, the first
     * element that matches decides; an empty filter keeps everything.
     */
    List<String> filter(List<String> offered) {
        if (mechanismFilter.isEmpty()) {
            return offered;
        }
        List<String> kept = new ArrayList<>();
        for (String mech : offered) {
            if (matches(mech)) {
                kept.add(mech);
            }
        }
        return kept;
    }

    private boolean matches(String mech) {
        for (String p : mechanismFilter) {
            boolean positive = true;
            while (p.startsWith("!")) {
                positive = !positive;
                p = p.substring(1);
            }
            if (p.equalsIgnoreCase(mech)) {
                return positive;
            }
        }
        return false;
    }
}
