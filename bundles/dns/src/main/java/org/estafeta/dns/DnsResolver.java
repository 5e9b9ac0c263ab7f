package org.estafeta.dns;

import java.net.InetAddress;
import java.util.concurrent.CompletionStage;

/**
 * Asynchronous DNS lookups (service of the {@code dns} bundle). Nothing here blocks: every method returns at once
 * with a stage that completes within {@code estafeta_dns_timeout} (a temporary failure when the servers do not
 * answer in time). The stage never completes exceptionally for a DNS outcome and never holds null.
 *
 * <p>Stages complete on the bundle's own small thread pool. A caller on an event loop continues with the
 * {@code *Async} methods and its own executor ({@code thenAcceptAsync(f, channel.eventLoop())}); a caller must
 * never block in a non-async continuation.
 *
 * <p>Names are domain names with or without the trailing dot; they are always taken as absolute (no search list,
 * as Postfix does), and non-ASCII names are converted to A-labels. A malformed name is
 * {@link DnsResult.NotFoundReason#MALFORMED_NAME}, and nothing is sent. Answers are cached for their TTL, and
 * negative answers for the SOA minimum the server sends with them.
 */
public interface DnsResolver {

    /** The IPv4 addresses of {@code name}. */
    CompletionStage<DnsResult<InetAddress>> a(String name);

    /** The IPv6 addresses of {@code name}. */
    CompletionStage<DnsResult<InetAddress>> aaaa(String name);

    /**
     * A and AAAA together: found when either has addresses (IPv4 first); else a temporary failure when either
     * failed temporarily; else not found ({@code NXDOMAIN} only when both said so). The query is {@code name/A+AAAA}.
     */
    CompletionStage<DnsResult<InetAddress>> addresses(String name);

    /** The MX records of {@code domain}, sorted by preference. */
    CompletionStage<DnsResult<MxRecord>> mx(String domain);

    /** The PTR names of {@code address} (without trailing dots), from its in-addr.arpa or ip6.arpa name. */
    CompletionStage<DnsResult<String>> ptr(InetAddress address);

    /** The TXT records of {@code name}, each record's strings joined. */
    CompletionStage<DnsResult<String>> txt(String name);

    /**
     * Postfix's client name check: the PTR names of {@code address}, then the addresses of each (A for an IPv4
     * client, AAAA for IPv6) until one contains {@code address}. See {@link ClientName}.
     */
    CompletionStage<ClientName> clientName(InetAddress address);

    /**
     * A DNSBL query for a client address ({@code reject_rbl_client zone}): the reversed address under
     * {@code zone} ({@code 2.0.0.127.zone} for 127.0.0.2; 32 reversed nibbles for IPv6), its A records and, when
     * listed, its TXT reason.
     */
    CompletionStage<DnsblResult> rbl(InetAddress client, String zone);

    /**
     * An RHSBL query for a domain ({@code reject_rhsbl_client}, {@code _sender}, {@code _helo}): {@code domain.zone},
     * its A records and, when listed, its TXT reason.
     */
    CompletionStage<DnsblResult> rhsbl(String domain, String zone);
}
