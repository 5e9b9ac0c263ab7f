package org.estafeta.config.internal;

import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.function.Function;

/**
 * THE REGISTRY of the parameters Estafeta supports, with their built-in defaults. To support a new parameter,
 * add one line to {@link #REGISTRY}: its Postfix name, its default as Postfix writes it (with {@code $name}
 * references, unexpanded) or a computation, and a one-line description for docs/configuration.md. Parameters of
 * Estafeta's own start with {@code estafeta_}.
 *
 * <p>A parameter that Postfix knows (see {@link PostfixNames}) but that is not in this registry is "not
 * supported yet": main.cf may set it, {@code postconf} prints it, and the loader warns about it.
 */
public final class BuiltinParameters {

    /** What a computed default may ask about. */
    public interface Context {
        /** The expanded value of another parameter (or null if undefined); loops are detected. */
        String expand(String name);

        /** The main.cf (or master.cf -o) value of a parameter, expanded, or null when it is not set explicitly. */
        String explicitExpanded(String name);

        Path configDirectory();

        Path varDirectory();
    }

    /**
     * One supported parameter.
     *
     * @param name the parameter name
     * @param defaultValue the default as Postfix writes it (unexpanded), computed from the context
     * @param description one line for the operator's reference
     * @param timeUnit the unit of a bare number for time parameters ({@code s m h d w}), or 0
     * @param computed whether the default is computed (shown as "computed" in docs)
     */
    public record Parameter(String name, Function<Context, String> defaultValue, String description, char timeUnit,
            boolean computed) {
    }

    private static Parameter text(String name, String value, String description) {
        return new Parameter(name, c -> value, description, (char) 0, false);
    }

    private static Parameter time(String name, String value, char unit, String description) {
        return new Parameter(name, c -> value, description, unit, false);
    }

    private static Parameter computed(String name, Function<Context, String> value, String description) {
        return new Parameter(name, value, description, (char) 0, true);
    }

    /** The supported parameters, in the order docs/configuration.md lists them. */
    public static final List<Parameter> REGISTRY = List.of(
            // ---- Postfix parameters (Postfix names and meaning; Postfix defaults unless the description says) ----
            computed("myhostname", BuiltinParameters::defaultMyhostname,
                    "the machine's host name as the kernel reports it; when it has no dot, `.$mydomain` (main.cf) or `.localdomain` is appended, as Postfix does"),
            computed("mydomain", BuiltinParameters::defaultMydomain,
                    "`$myhostname` without its first label; `localdomain` when `$myhostname` has no dot"),
            text("myorigin", "$myhostname", "the domain that locally-posted mail appears to come from"),
            text("mydestination", "$myhostname, localhost.$mydomain, localhost",
                    "the domains this machine delivers locally"),
            computed("mynetworks", BuiltinParameters::defaultMynetworks,
                    "trusted client networks; by default computed from `mynetworks_style` and the machine's interfaces"),
            text("mynetworks_style", "${{$compatibility_level} <level {2} ? {subnet} : {host}}",
                    "`host`, `subnet` or `class`: how the default `mynetworks` is computed"),
            text("inet_interfaces", "all", "the addresses the SMTP listeners bind to"),
            text("inet_protocols", "all", "`all`, `ipv4`, `ipv6` or `ipv4, ipv6`"),
            text("smtpd_banner", "$myhostname ESMTP $mail_name", "the text after `220` in the SMTP greeting"),
            text("mail_name", "Estafeta", "the mail system's name in the banner and in reports (Postfix: `Postfix`)"),
            computed("mail_version", c -> Version.VERSION, "the Estafeta version (read-only in practice)"),
            computed("config_directory", c -> c.configDirectory().toString(),
                    "the directory holding main.cf and master.cf (the `-c` directory)"),
            text("queue_directory", "$estafeta_var_directory/spool", "the mail queue (Postfix: `/var/spool/postfix`)"),
            text("data_directory", "$estafeta_var_directory/lib",
                    "caches and other writable data (Postfix: `/var/lib/postfix`)"),
            text("maillog_file", "$estafeta_var_directory/log/maillog",
                    "the log file, written in Postfix's maillog shape (Postfix: empty, i.e. syslog)"),
            text("syslog_name", "estafeta", "the program-name prefix of log lines (Postfix: `postfix`)"),
            text("default_process_limit", "100", "the default of master.cf's maxproc column (`-`)"),
            time("smtpd_timeout", "300s", 's',
                    "how long the SMTP server waits for a client command before `421 4.4.2` (Postfix: `${stress?{10}:{300}}s`; Estafeta has no stress mode yet)"),
            text("line_length_limit", "2048",
                    "the longest SMTP command line (with its CRLF) the server accepts; longer ones get `500 5.5.2`"),
            // smtpd: protocol and hostile-input defences (issue 3)
            text("smtpd_peername_lookup", "yes", "look up the SMTP client's name (no: every client is `unknown`)"),
            text("smtpd_helo_required", "no", "require HELO or EHLO before MAIL (`503 5.5.1 Error: send HELO/EHLO first`) and ETRN"),
            text("disable_vrfy_command", "no", "refuse VRFY (`502 5.5.1 VRFY command is disabled`) and leave it out of the EHLO reply"),
            text("content_filter", "", "`transport:destination` every message received by smtpd or pickup is sent to first (FILTER_README's after-queue filter); `-o content_filter=` on the reinjection service"),
            text("receive_override_options", "", "what a receiving service (smtpd, pickup; `-o` on a reinjection listener) turns off for its mail: `no_unknown_recipient_checks`, `no_address_mappings` (canonical, masquerading, virtual alias and bcc maps), `no_header_body_checks`, `no_milters` (docs/header-actions.md)"),
            text("always_bcc", "", "an address that gets a blind copy of every message (added with NOTIFY=NEVER)"),
            text("sender_bcc_maps", "", "tables of sender → address that gets a blind copy"),
            text("recipient_bcc_maps", "", "tables of recipient → address that gets a blind copy"),
            text("header_checks", "", "tables of patterns for each message header: REJECT, WARN, HOLD, DISCARD, IGNORE, REPLACE, PREPEND ... (header_checks(5))"),
            text("mime_header_checks", "$header_checks", "the same for MIME headers (Content-*), top level and in parts"),
            text("nested_header_checks", "$header_checks", "the same for the headers of attached messages (message/rfc822 parts)"),
            text("body_checks", "", "tables of patterns for each body line"),
            text("body_checks_size_limit", "51200", "bytes of each body part that body_checks inspect"),
            // cleanup: address rewriting (canonical(5), virtual(5) aliases, masquerading)
            text("canonical_maps", "", "tables of address → address applied by cleanup to the classes of `canonical_classes`"),
            text("canonical_classes", "envelope_sender, envelope_recipient, header_sender, header_recipient", "the addresses `canonical_maps` rewrites"),
            text("sender_canonical_maps", "", "tables of sender address → address, applied before `canonical_maps`"),
            text("sender_canonical_classes", "envelope_sender, header_sender", "the addresses `sender_canonical_maps` rewrites"),
            text("recipient_canonical_maps", "", "tables of recipient address → address, applied before `canonical_maps`"),
            text("recipient_canonical_classes", "envelope_recipient, header_recipient", "the addresses `recipient_canonical_maps` rewrites"),
            text("masquerade_domains", "", "domains whose subdomains are stripped (`host.example.com` → `example.com`); `!domain` keeps a subdomain"),
            text("masquerade_exceptions", "", "local parts never masqueraded (`root`, `type:table`)"),
            text("masquerade_classes", "envelope_sender, header_sender, header_recipient", "the addresses masquerading applies to"),
            text("propagate_unmatched_extensions", "canonical, virtual", "maps whose results get the unmatched `+extension` of the address"),
            text("virtual_alias_expansion_limit", "1000", "the most addresses one recipient expands to through `virtual_alias_maps`"),
            text("virtual_alias_recursion_limit", "1000", "the deepest nesting of `virtual_alias_maps` expansion"),
            text("virtual_alias_address_length_limit", "1000", "the longest address a `virtual_alias_maps` result may hold"),
            text("local_header_rewrite_clients", "permit_inet_interfaces", "clients whose message headers get local address rewriting"),
            text("remote_header_rewrite_domain", "", "the domain for incomplete header addresses of other clients (empty: no header rewriting for them)"),
            text("message_size_limit", "10240000", "the largest message in bytes (0: no limit); advertised as `SIZE` in the EHLO reply"),
            text("header_size_limit", "102400", "the most bytes cleanup takes as one message header (and as the header section); the rest is body"),
            text("hopcount_limit", "50", "a message with this many `Received:` headers is refused: `554 5.4.0 Error: too many hops` (mail loops stop)"),
            text("message_drop_headers", "bcc, content-length, resent-bcc, return-path", "headers cleanup removes from every message"),
            text("always_add_missing_headers", "no", "`yes`: cleanup adds a missing Message-Id and Date header to all mail, remote mail included"),
            text("smtpd_recipient_limit", "1000", "recipients per message; beyond it `452 4.5.3 Error: too many recipients`"),
            text("smtpd_recipient_overshoot_limit", "1000", "recipients beyond `smtpd_recipient_limit` not counted as errors"),
            text("smtpd_soft_error_limit", "10", "errors after which each reply waits `smtpd_error_sleep_time`"),
            text("smtpd_hard_error_limit", "20", "errors after which the session ends with `421 4.7.0 ... Error: too many errors` (Postfix: `${stress?{1}:{20}}`)"),
            time("smtpd_error_sleep_time", "1s", 's', "the wait before each reply once `smtpd_soft_error_limit` is reached"),
            text("smtpd_junk_command_limit", "100", "NOOP, RSET, HELO, EHLO, VRFY, ETRN per session before each counts as an error (Postfix: `${stress?{1}:{100}}`)"),
            text("smtpd_client_connection_count_limit", "50", "simultaneous connections per client address (0: none; Postfix: `(default_process_limit + 1) / 2`)"),
            text("smtpd_client_connection_rate_limit", "0", "connections per client address per `anvil_rate_time_unit` (0: none)"),
            time("anvil_rate_time_unit", "60s", 's', "the window of the connection rate limit"),
            text("smtpd_client_event_limit_exceptions", "$mynetworks", "clients exempt from the connection limits: addresses and networks (Postfix: `${smtpd_client_connection_limit_exceptions:$mynetworks}`)"),
            text("smtpd_delay_reject", "yes", "evaluate client, helo and sender restrictions at RCPT TO"),
            text("smtpd_forbid_unauth_pipelining", "yes", "hang up on a client that sends before the greeting or pipelines where RFC 2920 does not allow it"),
            text("smtpd_forbid_bare_newline", "normalize", "`normalize`, `note`, `reject` or `no`: only `<CR><LF>.<CR><LF>` ends DATA; `reject` refuses bare LF (Postfix 3.9)"),
            text("smtpd_forbid_bare_newline_exclusions", "$mynetworks", "clients for which `smtpd_forbid_bare_newline` is off"),
            text("smtpd_forbid_bare_newline_reject_code", "550", "the reply code for a bare LF with `smtpd_forbid_bare_newline = reject`"),
            text("smtputf8_enable", "yes", "announce SMTPUTF8 and refuse command lines that are not UTF-8"),
            // smtpd: STARTTLS (bundle tls; issue 7)
            text("smtpd_tls_security_level", "", "`none`, `may` (offer STARTTLS) or `encrypt` (require it); empty: decided by `smtpd_enforce_tls` and `smtpd_use_tls`"),
            text("smtpd_use_tls", "no", "Postfix 2.2's `may`: offer STARTTLS (used only when `smtpd_tls_security_level` is empty)"),
            text("smtpd_enforce_tls", "no", "Postfix 2.2's `encrypt`: require STARTTLS (used only when `smtpd_tls_security_level` is empty)"),
            text("smtpd_tls_cert_file", "", "PEM file with the server certificate (and its chain); empty: a self-signed certificate is generated under `$data_directory/tls`"),
            text("smtpd_tls_key_file", "$smtpd_tls_cert_file", "PEM file with the server's private key (unencrypted)"),
            text("smtpd_tls_chain_files", "", "PEM files each holding a private key followed by its certificate chain; used instead of the cert and key files"),
            text("smtpd_tls_protocols", ">=TLSv1", "TLS protocols at level `may` (`>=TLSv1.2`, `!TLSv1, !TLSv1.1`, `TLSv1.2 TLSv1.3`)"),
            text("smtpd_tls_mandatory_protocols", ">=TLSv1", "TLS protocols at level `encrypt`"),
            text("smtpd_tls_loglevel", "0", "`0`: no TLS logging; `1`: one line per completed handshake"),
            text("smtpd_tls_received_header", "no", "put the TLS protocol, cipher and client certificate in the Received header"),
            text("smtpd_tls_ciphers", "medium", "cipher grade at level `may`: `export`, `low`, `medium`, `high` (every JSSE default suite is HIGH)"),
            text("smtpd_tls_mandatory_ciphers", "medium", "cipher grade at level `encrypt`"),
            text("smtpd_tls_exclude_ciphers", "", "algorithms whose TLS 1.2 suites are not offered at level `may` (OpenSSL names: `aNULL`, `3DES`, `SHA1`, `kRSA` ...)"),
            text("smtpd_tls_mandatory_exclude_ciphers", "", "the same at level `encrypt`"),
            text("proxy_read_maps", "", "accepted: Estafeta has no proxymap process, `proxy:` tables are opened in-process"),
            text("proxy_write_maps", "", "accepted, as `proxy_read_maps`"),
            text("import_environment", "", "accepted; `environ:` tables read the gateway's environment"),
            text("smtpd_tls_ask_ccert", "no", "ask clients for a certificate (any is accepted; verified ones are Trusted)"),
            text("smtpd_tls_req_ccert", "no", "with `smtpd_tls_security_level = encrypt`: a client without a trusted certificate gets `421 4.7.1`"),
            text("smtpd_tls_CAfile", "", "PEM file of the CA certificates that verify client certificates (their names go in the certificate request)"),
            text("smtpd_tls_CApath", "", "directory of PEM files of such CA certificates (every file is read)"),
            text("smtpd_tls_fingerprint_digest", "${{$compatibility_level} <level {3.6} ? {md5} : {sha256}}", "digest of client certificate fingerprints (`md5`, `sha1`, `sha256` ...)"),
            text("relay_clientcerts", "", "tables of client certificate (or public key) fingerprints that `permit_tls_clientcerts` lets relay"),
            text("smtpd_tls_session_cache_database", "", "accepted whatever it names: TLS sessions are cached in memory (and resumed with TLS 1.3 tickets)"),
            time("smtpd_tls_session_cache_timeout", "3600s", 's', "how long a TLS session may be resumed"),
            // smtpd: SMTP AUTH (bundles sasl, sasl-dovecot; issue 7)
            text("smtpd_sasl_auth_enable", "no", "offer AUTH (RFC 4954) in EHLO and accept it"),
            text("smtpd_sasl_type", "cyrus", "the SASL back end: `estafeta` (built in; `cyrus` is the same, as Postfix's default names it) or `dovecot`"),
            text("smtpd_sasl_path", "smtpd", "for `dovecot`: the auth socket (`private/auth` under the queue directory, an absolute path, or `inet:host:port`); unused by `estafeta`"),
            text("smtpd_sasl_service", "smtp", "the service name handed to the back end"),
            text("smtpd_sasl_security_options", "noanonymous", "mechanisms to hide without TLS: `noanonymous`, `noplaintext`, `nodictionary`, `noactive`; or require `mutual_auth`, `forward_secrecy`"),
            text("smtpd_sasl_tls_security_options", "$smtpd_sasl_security_options", "the same, in a TLS session"),
            text("smtpd_sasl_local_domain", "", "the realm added to user names without one"),
            text("smtpd_sasl_authenticated_header", "no", "put the SASL user name in the Received header"),
            text("smtpd_sasl_exceptions_networks", "", "clients to which AUTH is not offered in EHLO"),
            text("smtpd_sasl_response_limit", "12288", "the longest AUTH response line accepted, in bytes"),
            text("broken_sasl_auth_clients", "no", "also announce `AUTH=mechanisms` for Outlook Express 4 and Microsoft Exchange 5.0"),
            text("smtpd_tls_auth_only", "no", "offer and accept AUTH only after STARTTLS"),
            text("smtpd_client_auth_rate_limit", "0", "AUTH commands per client address per `anvil_rate_time_unit` (0: none)"),
            time("estafeta_dovecot_auth_timeout", "30s", 's', "Estafeta: bound on each connect, handshake, write and reply wait of the Dovecot auth protocol (Postfix: a fixed 10s)"),
            text("estafeta_sasldb_path", "$config_directory/sasldb", "Estafeta: the password file of the built-in SASL back end, kept by `estafeta saslpasswd` (Postfix with Cyrus: `/etc/sasldb2`)"),
            // smtpd access restrictions (bundle restrictions; Postfix 3.7's defaults)
            text("compatibility_level", "0", "which of Postfix's changed defaults apply (`0` without it in main.cf, as Postfix 3.7; `2`, `3.6` ...)"),
            text("relay_domains", "${{$compatibility_level} <level {2} ? {$mydestination} : {}}", "domains (and, per `parent_domain_matches_subdomains`, their subdomains) this server relays to from anywhere"),
            text("parent_domain_matches_subdomains", "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps", "lists in which `example.com` also matches its subdomains (else write `.example.com`)"),
            text("smtpd_client_restrictions", "", "restrictions on the client's address and name, first match wins"),
            text("smtpd_helo_restrictions", "", "restrictions on the HELO/EHLO name"),
            text("smtpd_sender_restrictions", "", "restrictions on the MAIL FROM address"),
            text("smtpd_relay_restrictions", "${{$compatibility_level} <level {1} ? {} : {permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination}}", "relay control at RCPT TO, evaluated with `smtpd_recipient_restrictions`"),
            text("smtpd_recipient_restrictions", "", "restrictions at RCPT TO; with the relay list, at least one must refuse unauthorized destinations"),
            text("smtpd_data_restrictions", "", "restrictions at DATA"),
            text("smtpd_end_of_data_restrictions", "", "restrictions after the end of the message"),
            text("smtpd_relay_before_recipient_restrictions", "${{$compatibility_level} <level {3.6} ? {no} : {yes}}", "evaluate `smtpd_relay_restrictions` before `smtpd_recipient_restrictions`"),
            text("smtpd_restriction_classes", "", "names of parameters that hold restriction lists, usable as restrictions and as access(5) results"),
            text("smtpd_null_access_lookup_key", "<>", "the key `check_sender_access` looks up for the null sender"),
            text("allow_untrusted_routing", "no", "let relay-domain recipients with `@`, `!` or `%` routing in the local part pass `reject_unauth_destination` and access-table OK"),
            text("reject_code", "554", "reply code of `reject`"),
            text("defer_code", "450", "reply code of `defer`"),
            text("relay_domains_reject_code", "554", "reply code of `reject_unauth_destination` (`defer_unauth_destination` uses it minus 100)"),
            // ---- address resolution (rewrite bundle) ----
            text("relayhost", "", "default next hop for non-local mail: `host`, `[host]` (no MX lookup), `host:port`"),
            text("default_transport", "smtp", "transport for the default address class"),
            text("relay_transport", "relay", "transport for `relay_domains`"),
            text("local_transport", "local:$myhostname", "transport for `mydestination` and the addresses of `inet_interfaces`"),
            text("virtual_transport", "virtual", "transport for `virtual_mailbox_domains`"),
            text("transport_maps", "", "tables of `address|domain|.domain|*` → `transport:nexthop`"),
            text("default_database_type", "hash", "the table type `postmap` and `postalias` use for a file named without `type:`"),
            text("sender_dependent_relayhost_maps", "", "tables of sender → relayhost, tried before `relayhost`"),
            text("sender_dependent_default_transport_maps", "", "tables of sender → transport, tried before `default_transport`"),
            text("fallback_relay", "", "Postfix 2.x name of `smtp_fallback_relay`"),
            text("smtp_fallback_relay", "$fallback_relay", "hosts to try when the destination's own hosts fail"),
            text("disable_dns_lookups", "no", "Postfix 2.x: `yes` means `smtp_host_lookup = native` (no MX lookup)"),
            text("smtp_host_lookup", "dns", "how the smtp client finds hosts: `dns`, `native`, or both"),
            text("virtual_maps", "", "Postfix 1.x name of `virtual_alias_maps`"),
            text("virtual_alias_domains", "$virtual_alias_maps", "domains whose every address is rewritten by `virtual_alias_maps`"),
            text("virtual_alias_maps", "$virtual_maps", "tables of address → addresses, applied by cleanup"),
            text("virtual_mailbox_domains", "$virtual_mailbox_maps", "domains delivered by `virtual_transport`"),
            text("virtual_mailbox_maps", "", "tables of address → mailbox path under `virtual_mailbox_base`"),
            text("proxy_interfaces", "", "addresses this host receives mail on through a proxy or NAT (local class too)"),
            text("resolve_null_domain", "no", "resolve `user@` as a remote address (yes) or as local (no)"),
            text("resolve_numeric_domain", "no", "resolve `user@ipaddress` as local when the address is this host's"),
            text("allow_percent_hack", "yes", "rewrite `user%domain` to `user@domain`"),
            text("swap_bangpath", "yes", "rewrite `site!user` to `user@site`"),
            text("empty_address_recipient", "MAILER-DAEMON", "recipient of mail addressed to the null address"),
            text("relocated_maps", "", "tables of address → new address: `550 5.1.6 User has moved to ...`"),
            text("append_dot_mydomain", "${{$compatibility_level} <level {1} ? {yes} : {no}}", "complete `user@host` to `user@host.$mydomain`"),
            text("append_at_myorigin", "yes", "complete a bare `user` to `user@$myorigin`"),
            text("show_user_unknown_table_name", "yes", "name the table in `User unknown in ... table` replies"),
            text("owner_request_special", "yes", "`owner-x` and `x-request` keep their form when `recipient_delimiter` is `-`"),
            text("allow_min_user", "no", "accept addresses that start with `-`"),
            text("relocated_prefix_enable", "yes", "prefix the relocated_maps text with `User has moved to`"),
            // smtpd: recipient validation at RCPT time (smtpd_check.c's check_rcpt_maps, bundle restrictions)
            text("local_recipient_maps", "proxy:unix:passwd.byname $alias_maps", "tables of the known users of the local domains; empty: no check at RCPT"),
            text("relay_recipient_maps", "", "tables of the known addresses of `relay_domains`; empty: no check at RCPT"),
            text("smtpd_reject_unlisted_recipient", "yes", "reject unknown recipients after the recipient restrictions, as an implicit `reject_unlisted_recipient`"),
            text("smtpd_reject_unlisted_sender", "no", "reject unknown senders in our own domains, as an implicit `reject_unlisted_sender`"),
            text("unknown_local_recipient_reject_code", "550", "reply code for a user not in `local_recipient_maps`"),
            text("unknown_virtual_alias_reject_code", "550", "reply code for an address of `virtual_alias_domains` not in `virtual_alias_maps`"),
            text("unknown_virtual_mailbox_reject_code", "550", "reply code for an address of `virtual_mailbox_domains` not in `virtual_mailbox_maps`"),
            text("unknown_relay_recipient_reject_code", "550", "reply code for an address of `relay_domains` not in `relay_recipient_maps`"),
            // ---- queue manager ----
            time("queue_run_delay", "300s", 's', "how often the deferred queue is scanned"),
            time("minimal_backoff_time", "300s", 's', "least time a deferred message waits before the next attempt"),
            time("maximal_backoff_time", "4000s", 's', "most time a deferred message waits before the next attempt"),
            time("maximal_queue_lifetime", "5d", 'd', "age at which a deferred message is returned to its sender"),
            time("bounce_queue_lifetime", "5d", 'd', "the same, for bounces (null sender)"),
            time("delay_warning_time", "0h", 'h', "age at which the sender is told the mail is delayed (0: never)"),
            text("qmgr_message_active_limit", "20000", "most messages in the active queue at once"),
            text("default_destination_concurrency_limit", "20", "parallel deliveries to one destination (`<transport>_destination_concurrency_limit` per transport)"),
            text("default_destination_recipient_limit", "50", "recipients per delivery (`<transport>_destination_recipient_limit` per transport)"),
            text("local_destination_concurrency_limit", "2", "parallel deliveries to one local recipient"),
            text("local_destination_recipient_limit", "1", "recipients per local delivery"),
            text("smtp_destination_concurrency_limit", "$default_destination_concurrency_limit", "parallel deliveries to one destination by the smtp transport"),
            text("smtp_destination_recipient_limit", "$default_destination_recipient_limit", "recipients per delivery by the smtp transport"),
            text("relay_destination_concurrency_limit", "$default_destination_concurrency_limit", "parallel deliveries to one destination by the relay transport"),
            text("relay_destination_recipient_limit", "$default_destination_recipient_limit", "recipients per delivery by the relay transport"),
            // ---- bounces ----
            text("notify_classes", "resource, software", "problems the postmaster hears of: bounce, 2bounce, delay, policy, protocol, resource, software"),
            text("bounce_notice_recipient", "postmaster", "who gets the `bounce` class copies"),
            text("2bounce_notice_recipient", "postmaster", "who gets undeliverable bounces (`2bounce`)"),
            text("delay_notice_recipient", "postmaster", "who gets the `delay` class copies"),
            text("error_notice_recipient", "postmaster", "who gets the policy, protocol, resource and software copies"),
            text("double_bounce_sender", "double-bounce", "sender of postmaster notices; mail to it is discarded"),
            text("bounce_size_limit", "50000", "most bytes of the original returned in a bounce"),
            // ---- smtp and lmtp transports ----
            time("smtp_connect_timeout", "30s", 's', "time to set up a TCP connection (0: the system's)"),
            time("smtp_helo_timeout", "300s", 's', "time to wait for the greeting and the EHLO/HELO reply"),
            time("smtp_mail_timeout", "300s", 's', "time to wait for the MAIL FROM reply"),
            time("smtp_rcpt_timeout", "300s", 's', "time to wait for each RCPT TO reply"),
            time("smtp_data_init_timeout", "120s", 's', "time to wait for the DATA reply"),
            time("smtp_data_xfer_timeout", "180s", 's', "time a write of message content may stall"),
            time("smtp_data_done_timeout", "600s", 's', "time to wait for the reply to the final dot"),
            time("smtp_quit_timeout", "300s", 's', "time to wait for the QUIT reply"),
            text("smtp_helo_name", "$myhostname", "the name sent in EHLO/HELO"),
            text("smtp_bind_address", "", "local IPv4 address of outgoing connections"),
            text("smtp_bind_address6", "", "local IPv6 address of outgoing connections"),
            text("smtp_mx_address_limit", "5", "most addresses tried per delivery"),
            text("smtp_mx_session_limit", "2", "most sessions tried per delivery"),
            text("smtp_skip_5xx_greeting", "yes", "treat a 5xx greeting as a reason to try the next host"),
            text("smtp_never_send_ehlo", "no", "always send HELO"),
            text("smtp_line_length_limit", "998", "content lines longer than this are folded"),
            time("smtp_connection_reuse_time_limit", "300s", 's', "how long a cached connection may be reused"),
            text("smtp_connection_cache_on_demand", "yes", "keep connections to busy destinations open for reuse"),
            time("smtp_connection_cache_time_limit", "2s", 's', "how long an idle cached connection stays open"),
            text("smtp_address_preference", "any", "`ipv4`, `ipv6` or `any` when a host has both"),
            text("smtp_defer_if_no_mx_address_found", "no", "defer (not fall back to A) when MX hosts have no address"),
            text("lmtp_lhlo_name", "$myhostname", "the name sent in LHLO"),
            time("lmtp_connect_timeout", "0s", 's', "time to set up an LMTP connection (0: the system's)"),
            time("lmtp_lhlo_timeout", "300s", 's', "time to wait for the greeting and the LHLO reply"),
            time("lmtp_mail_timeout", "300s", 's', "time to wait for the MAIL FROM reply"),
            time("lmtp_rcpt_timeout", "300s", 's', "time to wait for each RCPT TO reply"),
            time("lmtp_data_init_timeout", "120s", 's', "time to wait for the DATA reply"),
            time("lmtp_data_xfer_timeout", "180s", 's', "time a write of message content may stall"),
            time("lmtp_data_done_timeout", "600s", 's', "time to wait for the replies to the final dot"),
            time("lmtp_quit_timeout", "300s", 's', "time to wait for the QUIT reply"),
            text("lmtp_bind_address", "", "local IPv4 address of LMTP connections"),
            text("lmtp_bind_address6", "", "local IPv6 address of LMTP connections"),
            text("smtp_sasl_auth_enable", "no", "authenticate to servers that offer AUTH, with the `smtp_sasl_password_maps` credentials"),
            text("smtp_sasl_password_maps", "", "tables of next hop (`[host]:port`, `host`, domain) or sender → `user:password`"),
            text("smtp_sasl_security_options", "noplaintext, noanonymous", "mechanisms the client must not use without TLS"),
            text("smtp_sasl_tls_security_options", "$smtp_sasl_security_options", "the same in a TLS session"),
            text("smtp_sasl_mechanism_filter", "", "mechanisms the client may use (empty: all it knows)"),
            text("smtp_sasl_type", "cyrus", "the client's SASL implementation: built in (`cyrus` is accepted as its name)"),
            text("lmtp_sasl_auth_enable", "no", "authenticate to servers that offer AUTH, with the `lmtp_sasl_password_maps` credentials"),
            text("lmtp_sasl_password_maps", "", "tables of next hop (`[host]:port`, `host`, domain) or sender → `user:password`"),
            text("lmtp_sasl_security_options", "noplaintext, noanonymous", "mechanisms the client must not use without TLS"),
            text("lmtp_sasl_tls_security_options", "$lmtp_sasl_security_options", "the same in a TLS session"),
            text("lmtp_sasl_mechanism_filter", "", "mechanisms the client may use (empty: all it knows)"),
            text("lmtp_sasl_type", "cyrus", "the client's SASL implementation: built in (`cyrus` is accepted as its name)"),
            text("smtp_sender_dependent_authentication", "no", "look the sender up in `smtp_sasl_password_maps` before the next hop"),
            text("lmtp_sender_dependent_authentication", "no", "accepted; the LMTP client never looks the sender up (as Postfix's)"),
            text("smtp_sasl_auth_soft_bounce", "yes", "a refused AUTH defers the mail (no: it bounces)"),
            text("lmtp_sasl_auth_soft_bounce", "yes", "a refused AUTH defers the mail (no: it bounces)"),
            text("smtp_sasl_tls_verified_security_options", "$smtp_sasl_tls_security_options", "the SASL security options in a verified TLS session"),
            text("lmtp_sasl_tls_verified_security_options", "$lmtp_sasl_tls_security_options", "the SASL security options in a verified TLS session"),
            text("smtp_tls_security_level", "", "`none`, `may`, `encrypt`, `verify` or `secure` for SMTP deliveries; empty: decided by `smtp_enforce_tls` and `smtp_use_tls`"),
            text("smtp_use_tls", "no", "Postfix 2.2's `may` (used only when `smtp_tls_security_level` is empty)"),
            text("smtp_enforce_tls", "no", "Postfix 2.2's mandatory TLS: `verify` with `smtp_tls_enforce_peername`, else `encrypt` (used only when `smtp_tls_security_level` is empty)"),
            text("smtp_tls_enforce_peername", "yes", "with `smtp_enforce_tls`: the server certificate must be trusted and name the server"),
            text("smtp_tls_CAfile", "", "PEM file of the CA certificates that verify servers; with `smtp_tls_CApath` empty too, the JDK's trust store"),
            text("smtp_tls_CApath", "", "directory of PEM files of CA certificates (every file is read)"),
            text("smtp_tls_cert_file", "", "PEM file with the client certificate (and its chain)"),
            text("smtp_tls_key_file", "$smtp_tls_cert_file", "PEM file with the client's private key (RSA or ECDSA, unencrypted)"),
            text("smtp_tls_protocols", ">=TLSv1", "TLS protocols at level `may`"),
            text("smtp_tls_mandatory_protocols", ">=TLSv1", "TLS protocols at levels `encrypt`, `verify` and `secure`"),
            text("smtp_tls_loglevel", "0", "`0`: no TLS logging; `1`: one line per completed handshake"),
            text("smtp_tls_policy_maps", "", "per-destination TLS policy tables: `none`, `may`, `encrypt`, `verify`, `secure` with `match=` and `protocols=`"),
            text("smtp_tls_verify_cert_match", "hostname", "names the server certificate must match at level `verify`"),
            text("smtp_tls_secure_cert_match", "nexthop, dot-nexthop", "names the server certificate must match at level `secure`"),
            time("smtp_starttls_timeout", "300s", 's', "time to wait for the STARTTLS reply and for the TLS handshake"),
            text("smtp_tls_session_cache_database", "", "accepted whatever it names: TLS sessions are cached in memory only"),
            time("smtp_tls_session_cache_timeout", "3600s", 's', "how long a cached TLS session may be resumed"),
            text("lmtp_tls_security_level", "", "`none`, `may`, `encrypt`, `verify` or `secure` for LMTP deliveries; empty: decided by `lmtp_enforce_tls` and `lmtp_use_tls`"),
            text("lmtp_use_tls", "no", "Postfix 2.2's `may` (used only when `lmtp_tls_security_level` is empty)"),
            text("lmtp_enforce_tls", "no", "Postfix 2.2's mandatory TLS: `verify` with `lmtp_tls_enforce_peername`, else `encrypt` (used only when `lmtp_tls_security_level` is empty)"),
            text("lmtp_tls_enforce_peername", "yes", "with `lmtp_enforce_tls`: the server certificate must be trusted and name the server"),
            text("lmtp_tls_CAfile", "", "PEM file of the CA certificates that verify servers; with `lmtp_tls_CApath` empty too, the JDK's trust store"),
            text("lmtp_tls_CApath", "", "directory of PEM files of CA certificates (every file is read)"),
            text("lmtp_tls_cert_file", "", "PEM file with the client certificate (and its chain)"),
            text("lmtp_tls_key_file", "$lmtp_tls_cert_file", "PEM file with the client's private key (RSA or ECDSA, unencrypted)"),
            text("lmtp_tls_protocols", ">=TLSv1", "TLS protocols at level `may`"),
            text("lmtp_tls_mandatory_protocols", ">=TLSv1", "TLS protocols at levels `encrypt`, `verify` and `secure`"),
            text("lmtp_tls_loglevel", "0", "`0`: no TLS logging; `1`: one line per completed handshake"),
            text("lmtp_tls_policy_maps", "", "per-destination TLS policy tables: `none`, `may`, `encrypt`, `verify`, `secure` with `match=` and `protocols=`"),
            text("lmtp_tls_verify_cert_match", "hostname", "names the server certificate must match at level `verify`"),
            text("lmtp_tls_secure_cert_match", "nexthop", "names the server certificate must match at level `secure`"),
            time("lmtp_starttls_timeout", "300s", 's', "time to wait for the STARTTLS reply and for the TLS handshake"),
            text("lmtp_tls_session_cache_database", "", "accepted whatever it names: TLS sessions are cached in memory only"),
            time("lmtp_tls_session_cache_timeout", "3600s", 's', "how long a cached TLS session may be resumed"),
            // ---- pipe ----
            time("command_time_limit", "1000s", 's', "most time an external command (pipe, local |command) may run"),
            text("export_environment", "TZ MAIL_CONFIG LANG", "environment variables passed to external commands"),
            text("recipient_delimiter", "", "separator of address extensions (`user+ext`)"),
            text("default_privs", "nobody", "user that external commands run as when no other is given"),
            text("access_map_reject_code", "554", "reply code of an access(5) `REJECT`"),
            text("access_map_defer_code", "450", "reply code of an access(5) `DEFER`, `DEFER_IF_PERMIT`, `DEFER_IF_REJECT`"),
            text("unknown_client_reject_code", "450", "reply code of `reject_unknown_client_hostname` and `reject_unknown_reverse_client_hostname` (450 on a DNS temporary failure whatever it says)"),
            text("unknown_hostname_reject_code", "450", "reply code of `reject_unknown_helo_hostname`"),
            text("unknown_address_reject_code", "450", "reply code of `reject_unknown_sender_domain` and `reject_unknown_recipient_domain`"),
            text("invalid_hostname_reject_code", "501", "reply code of `reject_invalid_helo_hostname`"),
            text("non_fqdn_reject_code", "504", "reply code of the `reject_non_fqdn_*` restrictions"),
            text("maps_rbl_reject_code", "554", "`$rbl_code` in `default_rbl_reply`"),
            text("multi_recipient_bounce_reject_code", "550", "reply code of `reject_multi_recipient_bounce`"),
            text("default_rbl_reply", "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using $rbl_domain${rbl_reason?; $rbl_reason}", "the reply template of `reject_rbl_client` and the `reject_rhsbl_*` restrictions"),
            text("reject_tempfail_action", "defer_if_permit", "`defer_if_permit` or `defer`: what a DNS temporary failure in a reject restriction does"),
            text("unknown_helo_hostname_tempfail_action", "$reject_tempfail_action", "the same for `reject_unknown_helo_hostname`"),
            text("unknown_address_tempfail_action", "$reject_tempfail_action", "the same for `reject_unknown_sender_domain` and `reject_unknown_recipient_domain`"),
            // ---- local, virtual ----
            text("alias_maps", "hash:/etc/aliases, nis:mail.aliases", "tables of local aliases, used by the local transport (`nis:` is skipped while no bundle provides it)"),
            text("alias_database", "hash:/etc/aliases", "the alias tables `newaliases` and `postalias` build; not used for lookups"),
            text("allow_mail_to_commands", "alias, forward", "where local delivery to `|command` is allowed: `alias`, `forward`, `include`"),
            text("allow_mail_to_files", "alias, forward", "where local delivery to `/file/name` is allowed: `alias`, `forward`, `include`"),
            text("home_mailbox", "", "mailbox relative to the home directory (Maildir when it ends in `/`); empty: `mail_spool_directory`"),
            text("mail_spool_directory", "/var/mail", "directory of the mbox files of local users (Maildirs when it ends in `/`)"),
            text("mailbox_size_limit", "51200000", "the largest a local mailbox or file may grow, in bytes (0: no limit); not below `message_size_limit`"),
            text("mailbox_command", "", "command that delivers to local users' mailboxes instead of the local transport"),
            text("forward_path", "$home/.forward${recipient_delimiter}${extension}, $home/.forward", "where the local transport looks for `.forward` files"),
            text("mailbox_transport_maps", "", "tables of user name → `transport:nexthop` that local passes a user's mailbox delivery to, whether or not the user is in the passwd database"),
            text("mailbox_transport", "", "`transport:nexthop` that local passes every mailbox delivery to (`lmtp:unix:private/dovecot-lmtp`), whether or not the user is in the passwd database"),
            text("mailbox_command_maps", "", "tables of user name → command that delivers to that user's mailbox instead of `mailbox_command`"),
            text("fallback_transport_maps", "", "tables of name → `transport:nexthop` for local names that are neither aliases nor in the passwd database"),
            text("fallback_transport", "", "`transport:nexthop` for local names that are neither aliases nor in the passwd database"),
            text("luser_relay", "", "address that gets mail for unknown local names, with `$user`, `$local`, `$extension`, `$domain`, `$recipient`, `$recipient_delimiter` filled in per message"),
            text("virtual_mailbox_base", "", "directory the `virtual_mailbox_maps` results are relative to"),
            text("virtual_uid_maps", "", "tables of virtual address → owner uid of its mailbox (`static:5000`)"),
            text("virtual_gid_maps", "", "tables of virtual address → group id of its mailbox"),
            text("virtual_minimum_uid", "100", "the lowest uid `virtual_uid_maps` may give"),
            text("virtual_mailbox_limit", "51200000", "the largest a virtual mailbox may grow, in bytes (0: no limit); not below `message_size_limit`"),
            // ---- Estafeta's own ----
            computed("estafeta_var_directory", c -> c.varDirectory().toString(),
                    "the data directory given to the gateway at start (the launcher's var directory)"),
            text("estafeta_deploy_directory", "$estafeta_var_directory/deploy",
                    "bundles dropped here are installed and started; removed ones are stopped and uninstalled"),
            text("estafeta_webconsole_listen", "127.0.0.1:2580", "host:port of the web console"),
            text("estafeta_webconsole_user", "admin", "the web console's user name"),
            text("estafeta_webconsole_password", "",
                    "the web console's password; empty means: generate one on first start and print it once"),
            text("estafeta_dns_servers", "", "nameservers for DNS lookups (`host`, `host:port`, `[ipv6]:port`); empty means those of /etc/resolv.conf"),
            time("estafeta_dns_timeout", "5s", 's', "how long a DNS lookup (with its retries) may take before it is a temporary failure"),
            // ---- in-process content filters (docs/content-filters.md): cleanup's, then the clamav and spamassassin bundles' ----
            text("estafeta_content_filters", "", "Estafeta: the content filters (`estafeta.filter` names) every message goes through before it is queued, in order"),
            time("estafeta_content_filter_timeout", "300s", 's', "Estafeta: the most one content filter may take with one message; then 451 4.3.0 (unless it fails open)"),
            text("estafeta_content_filter_fail_open", "", "Estafeta: content filters whose failure or timeout lets the message pass on with a warning instead of 451 4.3.0"),
            text("clamav_server", "unix:/var/run/clamav/clamd.ctl", "the clamav filter: clamd's socket, `unix:/path` or `inet:host:port`"),
            text("clamav_action", "reject", "the clamav filter: what to do with infected mail, `reject`, `hold` or `discard`"),
            time("clamav_timeout", "60s", 's', "the clamav filter: the most one scan may take"),
            text("spamassassin_server", "inet:127.0.0.1:783", "the spamassassin filter: spamd's socket, `unix:/path` or `inet:host:port`"),
            text("spamassassin_user", "", "the spamassassin filter: the spamd `User` whose preferences apply; empty: spamd's own"),
            time("spamassassin_timeout", "60s", 's', "the spamassassin filter: the most one check may take"),
            text("spamassassin_max_size", "512000", "the spamassassin filter: larger messages pass unchecked, as with spamc (0: no limit)"),
            text("spamassassin_reject_score", "15", "the spamassassin filter: reject at or above this score (empty: never)"),
            text("spamassassin_hold_score", "", "the spamassassin filter: hold at or above this score (empty: never)"),
            text("smtpd_milters", "", "milters (Sendmail milter protocol) for mail received by smtpd: `inet:host:port`, `unix:/path`, `{ address, name=value ... }`"),
            text("non_smtpd_milters", "", "milters for mail that does not arrive by SMTP (sendmail, pickup)"),
            text("milter_protocol", "6", "the milter protocol version sent, optionally with `no_header_reply`"),
            text("milter_default_action", "tempfail", "what happens when a milter fails or times out: `accept`, `reject`, `tempfail` or `quarantine`"),
            time("milter_connect_timeout", "30s", 's', "time to connect to a milter and complete the protocol negotiation"),
            time("milter_command_timeout", "30s", 's', "time to wait for a milter's reply to CONNECT, HELO, MAIL, RCPT, DATA"),
            time("milter_content_timeout", "300s", 's', "time to wait for a milter's reply to a header, end of headers, body chunk or end of message"),
            text("milter_connect_macros", "j {daemon_name} {daemon_addr} v _", "macros sent to milters with the connect event"),
            text("milter_helo_macros", "{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}", "macros sent with HELO/EHLO"),
            text("milter_mail_macros", "i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}", "macros sent with MAIL FROM"),
            text("milter_rcpt_macros", "i {rcpt_addr} {rcpt_host} {rcpt_mailer}", "macros sent with RCPT TO"),
            text("milter_data_macros", "i", "macros sent with DATA"),
            text("milter_end_of_header_macros", "i", "macros sent with each header and the end of headers"),
            text("milter_end_of_data_macros", "i", "macros sent with body chunks and the end of the message"),
            text("milter_unknown_command_macros", "", "macros sent with an unknown SMTP command"),
            text("milter_macro_defaults", "", "`name=value` defaults for macros a session does not define"),
            text("milter_macro_daemon_name", "$myhostname", "the value of the `{daemon_name}` macro"),
            text("milter_macro_v", "$mail_name $mail_version", "the value of the `v` macro"));

    private static final Map<String, Parameter> BY_NAME;

    static {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Parameter p : REGISTRY) {
            if (m.put(p.name(), p) != null) {
                throw new IllegalStateException("parameter registered twice: " + p.name());
            }
        }
        BY_NAME = Collections.unmodifiableMap(m);
    }

    /**
     * Postfix parameters whose values are used as written, never $name-expanded (Postfix's "raw" parameters:
     * they hold $names that are expanded per message at run time).
     */
    static final Set<String> RAW = Set.of("default_rbl_reply", "command_execution_directory", "forward_path",
            "luser_relay", "mailbox_command", "postscreen_expansion_filter", "postscreen_reject_footer",
            "smtpd_expansion_filter", "smtpd_reject_footer");

    private BuiltinParameters() {
    }

    public static Parameter find(String name) {
        return BY_NAME.get(name);
    }

    public static Set<String> names() {
        return BY_NAME.keySet();
    }

    // ---- computed defaults ----

    private static String defaultMyhostname(Context c) {
        String name = localHostName();
        if (name.indexOf('.') < 0) {
            String domain = c.explicitExpanded("mydomain");
            name = name + "." + (domain != null ? domain : "localdomain");
        }
        return name;
    }

    private static String defaultMydomain(Context c) {
        String host = c.expand("myhostname");
        int dot = host == null ? -1 : host.indexOf('.');
        return dot < 0 ? "localdomain" : host.substring(dot + 1);
    }

    /**
     * The machine's name as gethostname() gives it, without a DNS lookup (Postfix deliberately does none here:
     * a lookup can hang when DNS is down).
     */
    static String localHostName() {
        try {
            Path p = Path.of("/proc/sys/kernel/hostname");
            if (Files.isReadable(p)) {
                String s = Files.readString(p, StandardCharsets.US_ASCII).strip();
                if (!s.isEmpty()) {
                    return s;
                }
            }
        } catch (IOException | RuntimeException e) {
            // fall through
        }
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    private static String defaultMynetworks(Context c) {
        String style = c.expand("mynetworks_style");
        style = style == null ? "host" : style.strip();
        Set<String> nets = new LinkedHashSet<>();
        try {
            for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InterfaceAddress ia : ni.getInterfaceAddresses()) {
                    InetAddress a = ia.getAddress();
                    int bits = a instanceof Inet4Address ? 32 : 128;
                    int prefix = switch (style) {
                        case "subnet" -> ia.getNetworkPrefixLength();
                        case "class" -> a instanceof Inet4Address ? classPrefix(a) : ia.getNetworkPrefixLength();
                        default -> bits;
                    };
                    nets.add(format(network(a, prefix), prefix));
                }
            }
        } catch (IOException e) {
            nets.add("127.0.0.0/8");
        }
        List<String> v4 = new ArrayList<>();
        List<String> v6 = new ArrayList<>();
        for (String n : nets) {
            (n.startsWith("[") ? v6 : v4).add(n);
        }
        v4.addAll(v6);
        return String.join(" ", v4);
    }

    private static int classPrefix(InetAddress a) {
        int first = a.getAddress()[0] & 0xff;
        return first < 128 ? 8 : first < 192 ? 16 : 24;
    }

    private static InetAddress network(InetAddress a, int prefix) {
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefix - i * 8));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (IOException e) {
            return a;
        }
    }

    private static String format(InetAddress a, int prefix) {
        if (a instanceof Inet6Address) {
            String s = a.getHostAddress();
            int pct = s.indexOf('%');
            if (pct >= 0) {
                s = s.substring(0, pct);
            }
            return "[" + compress6(s) + "]/" + prefix;
        }
        return a.getHostAddress() + "/" + prefix;
    }

    /** Java prints IPv6 without "::" compression; Postfix prints the compressed form. */
    static String compress6(String full) {
        String[] parts = full.split(":");
        StringBuilder sb = new StringBuilder();
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < parts.length;) {
            if (parts[i].replaceFirst("^0+", "").isEmpty()) {
                int j = i;
                while (j < parts.length && parts[j].replaceFirst("^0+", "").isEmpty()) {
                    j++;
                }
                if (j - i > bestLen && j - i > 1) {
                    bestStart = i;
                    bestLen = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        for (int i = 0; i < parts.length; i++) {
            if (i == bestStart) {
                sb.append(i == 0 ? "::" : ":");
                i += bestLen - 1;
                continue;
            }
            String p = parts[i].replaceFirst("^0+(?=.)", "");
            sb.append(p);
            if (i < parts.length - 1) {
                sb.append(':');
            }
        }
        return sb.toString();
    }

    /** The project version, from a resource Maven fills in at build time. */
    static final class Version {
        static final String VERSION = load();

        private static String load() {
            try (InputStream in = BuiltinParameters.class.getResourceAsStream("version.properties")) {
                Properties p = new Properties();
                if (in != null) {
                    p.load(in);
                }
                String v = p.getProperty("version");
                return v == null || v.startsWith("${") ? "unknown" : v;
            } catch (IOException e) {
                return "unknown";
            }
        }
    }
}
