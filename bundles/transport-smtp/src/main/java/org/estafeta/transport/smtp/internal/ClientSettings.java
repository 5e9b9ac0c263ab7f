package org.estafeta.transport.smtp.internal;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.estafeta.api.plugin.PluginContext;
import org.estafeta.config.ConfigValues;

/**
 * The smtp(8)/lmtp(8) parameters of one delivery, read from the master.cf service's context (so {@code -o}
 * overrides apply). The lmtp client reads {@code lmtp_*} names; a name that neither main.cf nor the built-in
 * registry knows takes Postfix's default from {@link #DEFAULTS}.
 */
record ClientSettings(boolean lmtp, String myhostname, String heloName, Duration connectTimeout,
        Duration heloTimeout, Duration mailTimeout, Duration rcptTimeout, Duration dataInitTimeout,
        Duration dataXferTimeout, Duration dataDoneTimeout, Duration quitTimeout, String bindAddress,
        String bindAddress6, int mxAddressLimit, int mxSessionLimit, boolean skip5xxGreeting, boolean neverEhlo,
        int lineLengthLimit, Duration reuseTimeLimit, boolean cacheOnDemand, Duration cacheTimeLimit,
        String addressPreference, boolean deferIfNoMxAddress, boolean dnsLookup, boolean nativeLookup,
        List<String> fallbackRelays, String inetProtocols, String relayhost, TlsSettings tls, SaslSettings sasl,
        SaslPasswords.LocalDomains localDomains, String queueDirectory) {

    /** Postfix's defaults, for names the registry may not list (most lmtp_* ones). */
    static final Map<String, String> DEFAULTS = Map.ofEntries(
            Map.entry("connect_timeout", "30s"), Map.entry("helo_timeout", "300s"),
            Map.entry("mail_timeout", "300s"), Map.entry("rcpt_timeout", "300s"),
            Map.entry("data_init_timeout", "120s"), Map.entry("data_xfer_timeout", "180s"),
            Map.entry("data_done_timeout", "600s"), Map.entry("quit_timeout", "300s"),
            Map.entry("bind_address", ""), Map.entry("bind_address6", ""),
            Map.entry("mx_address_limit", "5"), Map.entry("mx_session_limit", "2"),
            Map.entry("skip_5xx_greeting", "yes"), Map.entry("never_send_ehlo", "no"),
            Map.entry("line_length_limit", "998"), Map.entry("connection_reuse_time_limit", "300s"),
            Map.entry("connection_cache_on_demand", "yes"), Map.entry("connection_cache_time_limit", "2s"),
            Map.entry("address_preference", "any"), Map.entry("defer_if_no_mx_address_found", "no"),
            Map.entry("host_lookup", "dns"), Map.entry("fallback_relay", ""),
            Map.entry("lhlo_timeout", "300s"),
            Map.entry("tls_security_level", ""), Map.entry("use_tls", "no"), Map.entry("enforce_tls", "no"),
            Map.entry("tls_enforce_peername", "yes"), Map.entry("tls_CAfile", ""), Map.entry("tls_CApath", ""),
            Map.entry("tls_cert_file", ""), Map.entry("tls_key_file", ""), Map.entry("tls_protocols", ">=TLSv1"),
            Map.entry("tls_mandatory_protocols", ">=TLSv1"), Map.entry("tls_loglevel", "0"),
            Map.entry("tls_policy_maps", ""), Map.entry("tls_verify_cert_match", "hostname"),
            Map.entry("tls_secure_cert_match", "nexthop, dot-nexthop"), Map.entry("starttls_timeout", "300s"),
            Map.entry("tls_session_cache_database", ""), Map.entry("tls_session_cache_timeout", "3600s"),
            Map.entry("sasl_auth_enable", "no"), Map.entry("sasl_password_maps", ""),
            Map.entry("sasl_security_options", "noplaintext, noanonymous"));

    static ClientSettings from(PluginContext ctx, boolean lmtp) {
        String p = lmtp ? "lmtp_" : "smtp_";
        Reader r = new Reader(ctx, p);
        String myhostname = ctx.parameter("myhostname").filter(s -> !s.isBlank()).orElse("localhost");
        String helo = ctx.parameter(lmtp ? "lmtp_lhlo_name" : "smtp_helo_name").filter(s -> !s.isBlank())
                .orElse(myhostname);
        List<String> lookup = ConfigValues.list(r.text("host_lookup").toLowerCase(Locale.ROOT));
        boolean disableDns = !lmtp && ConfigValues.bool("disable_dns_lookups",
                ctx.parameter("disable_dns_lookups").filter(s -> !s.isBlank()).orElse("no"));
        boolean dns = lookup.contains("dns") && !disableDns;
        boolean nativeLookup = lookup.contains("native") || !dns;
        for (String l : lookup) {
            if (!l.equals("dns") && !l.equals("native")) {
                throw new IllegalArgumentException("bad " + p + "host_lookup value: " + l);
            }
        }
        String pref = r.text("address_preference").toLowerCase(Locale.ROOT);
        if (!List.of("any", "ipv4", "ipv6").contains(pref)) {
            throw new IllegalArgumentException("bad " + p + "address_preference value: " + pref);
        }
        return new ClientSettings(lmtp, myhostname, helo, r.time("connect_timeout"),
                r.time(lmtp ? "lhlo_timeout" : "helo_timeout"), r.time("mail_timeout"), r.time("rcpt_timeout"),
                r.time("data_init_timeout"), r.time("data_xfer_timeout"), r.time("data_done_timeout"),
                r.time("quit_timeout"), r.text("bind_address").strip(), r.text("bind_address6").strip(),
                r.integer("mx_address_limit"), r.integer("mx_session_limit"), r.bool("skip_5xx_greeting"),
                !lmtp && r.bool("never_send_ehlo"), r.integer("line_length_limit"),
                r.time("connection_reuse_time_limit"), r.bool("connection_cache_on_demand"),
                r.time("connection_cache_time_limit"), pref, r.bool("defer_if_no_mx_address_found"), dns,
                nativeLookup, ConfigValues.list(r.text("fallback_relay")),
                ctx.parameter("inet_protocols").filter(s -> !s.isBlank()).orElse("all").toLowerCase(Locale.ROOT),
                ctx.parameter("relayhost").orElse("").strip(), TlsSettings.from(p, r::text),
                SaslSettings.from(p, lmtp, r::text), localDomains(ctx, myhostname),
                ctx.parameter("queue_directory").orElse("").strip());
    }

    /** What mail_addr_find() needs for sender keys: {@code $myorigin}, the names of {@code $mydestination}. */
    private static SaslPasswords.LocalDomains localDomains(PluginContext ctx, String myhostname) {
        String origin = ctx.parameter("myorigin").filter(s -> !s.isBlank()).orElse(myhostname).strip();
        List<String> dest = ConfigValues.list(ctx.parameter("mydestination").orElse("")).stream()
                .filter(d -> d.indexOf(':') < 0 && !d.startsWith("/")).toList();
        return new SaslPasswords.LocalDomains(origin, dest, ctx.parameter("recipient_delimiter").orElse(""));
    }

    /** Whether IPv4 addresses may be used ({@code inet_protocols}). */
    boolean ipv4() {
        return inetProtocols.contains("all") || inetProtocols.contains("ipv4");
    }

    boolean ipv6() {
        return inetProtocols.contains("all") || inetProtocols.contains("ipv6");
    }

    /** The program name: {@code smtp} or {@code lmtp}. */
    String program() {
        return lmtp ? "lmtp" : "smtp";
    }

    private record Reader(PluginContext ctx, String prefix) {
        String text(String suffix) {
            return ctx.parameter(prefix + suffix).orElseGet(() -> DEFAULTS.get(suffix));
        }

        Duration time(String suffix) {
            return Duration.ofSeconds(ConfigValues.seconds(prefix + suffix, text(suffix), 's'));
        }

        int integer(String suffix) {
            return (int) ConfigValues.integer(prefix + suffix, text(suffix));
        }

        boolean bool(String suffix) {
            return ConfigValues.bool(prefix + suffix, text(suffix));
        }
    }
}
