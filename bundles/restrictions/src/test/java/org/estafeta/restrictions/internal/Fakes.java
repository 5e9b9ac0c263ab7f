package org.estafeta.restrictions.internal;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.dns.ClientName;
import org.estafeta.dns.DnsResolver;
import org.estafeta.dns.DnsResult;
import org.estafeta.dns.DnsblResult;
import org.estafeta.dns.MxRecord;
import org.estafeta.tables.TableService;
import org.estafeta.testing.FakeSnapshot;

/** Test doubles: Postfix 3.7's defaults as a snapshot, tables from maps, DNS answers from maps. */
final class Fakes {
    private Fakes() {
    }

    /** Postfix 3.7's defaults (postconf -d -x) for what the engine reads, at compatibility_level 0. */
    static Map<String, String> postfixDefaults() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("compatibility_level", "0");
        m.put("myhostname", "mx.example.net");
        m.put("mydomain", "example.net");
        m.put("mydestination", "mx.example.net, localhost.example.net, localhost");
        m.put("relay_domains", "mx.example.net, localhost.example.net, localhost"); // $mydestination below level 2
        m.put("mynetworks", "127.0.0.0/8 [::1]/128");
        m.put("inet_interfaces", "127.0.0.1");
        m.put("parent_domain_matches_subdomains", "debug_peer_list,fast_flush_domains,mynetworks,"
                + "permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps");
        m.put("smtpd_relay_before_recipient_restrictions", "no");
        m.put("smtpd_restriction_classes", "");
        m.put("access_map_defer_code", "450");
        m.put("access_map_reject_code", "554");
        m.put("defer_code", "450");
        m.put("reject_code", "554");
        m.put("relay_domains_reject_code", "554");
        m.put("unknown_client_reject_code", "450");
        m.put("unknown_hostname_reject_code", "450");
        m.put("unknown_address_reject_code", "450");
        m.put("invalid_hostname_reject_code", "501");
        m.put("non_fqdn_reject_code", "504");
        m.put("maps_rbl_reject_code", "554");
        m.put("multi_recipient_bounce_reject_code", "550");
        m.put("reject_tempfail_action", "defer_if_permit");
        m.put("unknown_helo_hostname_tempfail_action", "defer_if_permit");
        m.put("unknown_address_tempfail_action", "defer_if_permit");
        m.put("default_rbl_reply", "$rbl_code Service unavailable; $rbl_class [$rbl_what] blocked using "
                + "$rbl_domain${rbl_reason?; $rbl_reason}");
        m.put("smtpd_null_access_lookup_key", "<>");
        // recipient validation: local_recipient_maps is "proxy:unix:passwd.byname $alias_maps", expanded
        m.put("smtpd_reject_unlisted_recipient", "yes");
        m.put("smtpd_reject_unlisted_sender", "no");
        m.put("local_recipient_maps", "proxy:unix:passwd.byname hash:/etc/aliases, nis:mail.aliases");
        m.put("myorigin", "mx.example.net");
        m.put("recipient_delimiter", "");
        m.put("double_bounce_sender", "double-bounce");
        m.put("show_user_unknown_table_name", "yes");
        m.put("unknown_local_recipient_reject_code", "550");
        m.put("unknown_virtual_alias_reject_code", "550");
        m.put("unknown_virtual_mailbox_reject_code", "550");
        m.put("unknown_relay_recipient_reject_code", "550");
        return m;
    }

    /** The defaults with these name, value pairs on top; names set here count as explicit (main.cf). */
    static ConfigSnapshot config(String... nameValues) {
        Map<String, String> m = postfixDefaults();
        Set<String> explicit = new java.util.HashSet<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            m.put(nameValues[i], nameValues[i + 1]);
            explicit.add(nameValues[i]);
        }
        return new FakeSnapshot(m) {
            @Override
            public boolean isExplicit(String name) {
                return explicit.contains(name);
            }
        };
    }

    /**
     * Tables by spec, each a map; use {@link #failing} for lookup failures. The default local_recipient_maps are
     * there: {@code unix:passwd.byname} knows root, {@code hash:/etc/aliases} knows postmaster, and {@code nis:} is
     * a type no bundle provides.
     */
    static final class Tables implements TableService {
        final Map<String, Map<String, String>> tables = new HashMap<>();
        final Set<String> failing = new java.util.HashSet<>();
        final List<String> lookups = new ArrayList<>();
        int open;

        Tables() {
            put("unix:passwd.byname", "root", "root:x:0:0:root:/root:/bin/bash");
            put("hash:/etc/aliases", "postmaster", "root");
        }

        Tables put(String spec, String key, String value) {
            tables.computeIfAbsent(spec, k -> new LinkedHashMap<>()).put(key, value);
            return this;
        }

        @Override
        public LookupTable open(String spec) throws TableOpenException {
            if (spec.startsWith("nis:")) {
                throw new org.estafeta.tables.UnsupportedTableTypeException("nis");
            }
            if (!tables.containsKey(spec) && !failing.contains(spec)) {
                throw new TableOpenException("no such table: " + spec);
            }
            open++;
            return new LookupTable() {
                @Override
                public LookupResult lookup(String key) {
                    lookups.add(spec + " " + key);
                    if (failing.contains(spec)) {
                        return LookupResult.temporaryFailure("database down");
                    }
                    String v = tables.get(spec).get(key);
                    return v == null ? LookupResult.notFound() : LookupResult.found(v);
                }

                @Override
                public void close() {
                    open--;
                }
            };
        }

        @Override
        public Set<String> types() {
            return Set.of("hash");
        }

        @Override
        public List<String> problems(ConfigSnapshot snapshot) {
            return List.of();
        }
    }

    /** DNS answers by query; anything not given is NXDOMAIN, names in {@link #failing} fail temporarily. */
    static final class Dns implements DnsResolver {
        final Map<String, List<InetAddress>> a = new HashMap<>();
        final Map<String, List<MxRecord>> mx = new HashMap<>();
        final Map<String, String> txt = new HashMap<>();
        final Set<String> failing = new java.util.HashSet<>();
        final List<String> queries = new ArrayList<>();

        Dns address(String name, String addr) {
            try {
                a.computeIfAbsent(name, k -> new ArrayList<>()).add(InetAddress.getByName(addr));
            } catch (java.net.UnknownHostException e) {
                throw new IllegalArgumentException(e);
            }
            return this;
        }

        Dns mx(String name, int pref, String host) {
            mx.computeIfAbsent(name, k -> new ArrayList<>()).add(new MxRecord(pref, host));
            return this;
        }

        private <T> CompletionStage<DnsResult<T>> answer(String query, String name, List<T> values) {
            queries.add(query);
            if (failing.contains(name)) {
                return CompletableFuture.completedFuture(new DnsResult.TemporaryFailure<>(query, "SERVFAIL"));
            }
            if (values == null || values.isEmpty()) {
                return CompletableFuture.completedFuture(
                        new DnsResult.NotFound<>(query, DnsResult.NotFoundReason.NXDOMAIN));
            }
            return CompletableFuture.completedFuture(new DnsResult.Found<>(query, values, Duration.ofMinutes(5)));
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> a(String name) {
            return answer(name + "/A", name, a.get(name));
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> aaaa(String name) {
            return answer(name + "/AAAA", name, List.of());
        }

        @Override
        public CompletionStage<DnsResult<InetAddress>> addresses(String name) {
            return answer(name + "/A+AAAA", name, a.get(name));
        }

        @Override
        public CompletionStage<DnsResult<MxRecord>> mx(String domain) {
            return answer(domain + "/MX", domain, mx.get(domain));
        }

        @Override
        public CompletionStage<DnsResult<String>> ptr(InetAddress address) {
            throw new UnsupportedOperationException("the engine never looks up client names");
        }

        @Override
        public CompletionStage<DnsResult<String>> txt(String name) {
            return answer(name + "/TXT", name, txt.containsKey(name) ? List.of(txt.get(name)) : List.of());
        }

        @Override
        public CompletionStage<ClientName> clientName(InetAddress address) {
            throw new UnsupportedOperationException("the engine never looks up client names");
        }

        @Override
        public CompletionStage<DnsblResult> rbl(InetAddress client, String zone) {
            return dnsbl(org.estafeta.dns.ReverseNames.dnsblName(client, zone));
        }

        @Override
        public CompletionStage<DnsblResult> rhsbl(String domain, String zone) {
            return dnsbl(domain + "." + zone);
        }

        private CompletionStage<DnsblResult> dnsbl(String query) {
            DnsResult<InetAddress> r = a(query).toCompletableFuture().join();
            String reason = r.isFound() ? txt.getOrDefault(query, "") : "";
            return CompletableFuture.completedFuture(new DnsblResult(query, r, reason));
        }
    }
}
