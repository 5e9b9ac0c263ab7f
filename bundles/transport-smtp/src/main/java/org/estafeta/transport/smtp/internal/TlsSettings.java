package org.estafeta.transport.smtp.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.config.ConfigValues;
import org.estafeta.tables.TableNames;
import org.estafeta.tables.TableService;
import org.slf4j.Logger;

/**
 * The client TLS parameters of one delivery ({@code smtp_tls_*}, or {@code lmtp_tls_*} for lmtp), and the policy
 * of one next hop as Postfix's smtp_tls_policy.c finds it: {@code *_tls_security_level}, else the Postfix 2.2
 * booleans ({@code *_enforce_tls = yes}: {@code verify} with {@code *_tls_enforce_peername = yes}, else
 * {@code encrypt}; {@code *_use_tls = yes}: {@code may}), overridden per destination by {@code *_tls_policy_maps}.
 */
record TlsSettings(String prefix, TlsLevel level, String protocols, String mandatoryProtocols, String caFile,
        String caPath, String certFile, String keyFile, int loglevel, List<String> policyMaps,
        List<String> verifyMatch, List<String> secureMatch, Duration starttlsTimeout, String sessionCache,
        Duration sessionTimeout) {

    /** The TLS policy of one next hop: its level, the names the certificate must match, the protocol list. */
    record Policy(TlsLevel level, List<String> match, String protocolsParameter, String protocols, Why invalid) {
    }

    /**
     * Reads the parameters; {@code text} gives a parameter's value by its suffix ({@code tls_CAfile}).
     *
     * @throws IllegalArgumentException for a security level Postfix does not know
     */
    static TlsSettings from(String prefix, Function<String, String> text) {
        String name = text.apply("tls_security_level").strip();
        TlsLevel level;
        if (!name.isEmpty()) {
            level = TlsLevel.parse(name);
            if (level == null) {
                throw new IllegalArgumentException("invalid " + prefix + "tls_security_level value: \"" + name
                        + "\" (supported: none, may, encrypt, verify, secure)");
            }
        } else if (bool(prefix, "enforce_tls", text)) {
            level = bool(prefix, "tls_enforce_peername", text) ? TlsLevel.VERIFY : TlsLevel.ENCRYPT;
        } else {
            level = bool(prefix, "use_tls", text) ? TlsLevel.MAY : TlsLevel.NONE;
        }
        String cert = text.apply("tls_cert_file").strip();
        String key = text.apply("tls_key_file").strip();
        return new TlsSettings(prefix, level, text.apply("tls_protocols"), text.apply("tls_mandatory_protocols"),
                text.apply("tls_CAfile").strip(), text.apply("tls_CApath").strip(), cert, key.isEmpty() ? cert : key,
                Integer.parseInt(text.apply("tls_loglevel").strip()), ConfigValues.list(text.apply("tls_policy_maps")),
                matchList(text.apply("tls_verify_cert_match")), matchList(text.apply("tls_secure_cert_match")),
                Duration.ofSeconds(ConfigValues.seconds(prefix + "starttls_timeout", text.apply("starttls_timeout"), 's')),
                text.apply("tls_session_cache_database").strip(),
                Duration.ofSeconds(ConfigValues.seconds(prefix + "tls_session_cache_timeout",
                        text.apply("tls_session_cache_timeout"), 's')));
    }

    private static boolean bool(String prefix, String suffix, Function<String, String> text) {
        return ConfigValues.bool(prefix + suffix, text.apply(suffix));
    }

    /** Postfix's match lists: names separated by white space, commas or colons. */
    private static List<String> matchList(String value) {
        List<String> out = new ArrayList<>();
        for (String s : value.strip().split("[\\s,:]+")) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * The policy for {@code hop}: the first {@code *_tls_policy_maps} entry for the next-hop text ({@code [host]:port},
     * {@code host:port}, the path of lmtp's {@code unix:path}) or, for a domain, for the domain and then its parents
     * as {@code .parent} keys; else the main.cf level. Fixed-string tables get the keys folded to lower case, pattern
     * tables ({@link TableNames#isPattern}) as written, as DICT_FLAG_FOLD_FIX does. A table failure or a bad entry
     * gives a policy whose {@code invalid} is Postfix's {@code 4.7.5 client TLS configuration problem}.
     */
    Policy policy(NextHop hop, TableService tables, Logger log) {
        String title = prefix + "tls_policy_maps";
        List<String> keys = new ArrayList<>();
        String dest = hop.text();
        keys.add(dest);
        if (!hop.bracketed() && dest.indexOf(':') < 0) {
            for (int dot = dest.indexOf('.', 1); dot > 0; dot = dest.indexOf('.', dot + 1)) {
                keys.add(dest.substring(dot));
            }
        }
        Why invalid = Why.local("4.7.5", "client TLS configuration problem");
        for (String key : keys) {
            for (String spec : policyMaps) {
                String where = title + ", next-hop destination \"" + key + "\"";
                if (tables == null) {
                    log.warn("{}: no table service", where);
                    return defaults(level, invalid);
                }
                LookupResult r;
                try (LookupTable t = tables.open(spec)) {
                    r = t.lookup(TableNames.isPattern(spec) ? key : key.toLowerCase(Locale.ROOT));
                } catch (TableOpenException e) {
                    log.warn("{}: policy table lookup error: {}", where, e.getMessage());
                    return defaults(level, invalid);
                }
                if (r instanceof LookupResult.TemporaryFailure f) {
                    log.warn("{}: policy table lookup error: {}", where, f.reason());
                    return defaults(level, invalid);
                }
                if (r instanceof LookupResult.Found f) {
                    return parse(f.value(), where, log, invalid);
                }
            }
        }
        return defaults(level, null);
    }

    private Policy defaults(TlsLevel l, Why invalid) {
        return new Policy(l, l == TlsLevel.SECURE ? secureMatch : verifyMatch,
                prefix + (l == TlsLevel.MAY ? "tls_protocols" : "tls_mandatory_protocols"),
                l == TlsLevel.MAY ? protocols : mandatoryProtocols, invalid);
    }

    /** One policy entry: a level, then {@code name=value} attributes. */
    private Policy parse(String value, String where, Logger log, Why invalid) {
        String[] tokens = value.strip().split("[\\s,]+");
        TlsLevel l = tokens[0].isEmpty() ? null : TlsLevel.parse(tokens[0]);
        if (l == null) {
            log.warn("{}: invalid security level \"{}\"", where, tokens[0]);
            return defaults(level, invalid);
        }
        Policy p = defaults(l, null);
        List<String> match = p.match();
        String protocolsParameter = p.protocolsParameter();
        String protocolList = p.protocols();
        for (int i = 1; i < tokens.length; i++) {
            String tok = tokens[i];
            if (l.compareTo(TlsLevel.MAY) < 0) {
                log.warn("{}: ignoring attribute \"{}\" with TLS disabled", where, tok);
                continue;
            }
            int eq = tok.indexOf('=');
            if (eq <= 0) {
                log.warn("{}: malformed attribute/value pair \"{}\": missing '='", where, tok);
                return defaults(level, invalid);
            }
            String name = tok.substring(0, eq).toLowerCase(Locale.ROOT);
            String val = tok.substring(eq + 1);
            switch (name) {
                case "match" -> {
                    if (!l.mustMatch()) {
                        log.warn("{}: attribute \"match\" invalid at security level \"{}\"", where, l.lowerName());
                        return defaults(level, invalid);
                    }
                    match = matchList(val);
                }
                case "protocols" -> {
                    protocolsParameter = where + ": protocols";
                    protocolList = val;
                }
                case "ciphers", "exclude" ->
                    log.warn("{}: ignoring attribute \"{}\": not supported by this smtp client", where, name);
                default -> {
                    log.warn("{}: invalid attribute name: \"{}\"", where, name);
                    return defaults(level, invalid);
                }
            }
        }
        return new Policy(l, match, protocolsParameter, protocolList, null);
    }
}
