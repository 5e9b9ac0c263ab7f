package org.estafeta.cleanup.internal;

import static org.estafeta.cleanup.internal.CleanupFixture.remote;
import static org.estafeta.cleanup.internal.CleanupFixture.send;
import static org.estafeta.cleanup.internal.CleanupFixture.submission;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.estafeta.queue.Envelope;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * canonical(5), virtual(5) aliases and masquerading as cleanup applies them, through a real queue and the real
 * texthash: tables. Header rewriting needs a header rewriting context: these tests use a local client (127.0.0.1,
 * in Postfix's default {@code local_header_rewrite_clients = permit_inet_interfaces}) unless they test the remote
 * case.
 */
class AddressRewritingTest {
    @TempDir
    Path tmp;
    CleanupFixture fx;

    @BeforeEach
    void fixture() throws IOException {
        fx = new CleanupFixture(tmp);
    }

    private static Submission local(String sender, String... recipients) {
        return submission("127.0.0.1", sender, recipients);
    }

    private static final String MESSAGE = "From: Sender <s@example.org>\r\nTo: r@example.net\r\nSubject: hi\r\n\r\nbody\r\n";

    @Test
    void canonicalMapsRewriteEveryClassByDefaultAndOnlyTheNamedClasses() throws Exception {
        Path t = fx.file("canonical", "s@example.org sender@example.com", "r@example.net rcpt@example.com");
        Cleanup all = fx.cleanup("canonical_maps = texthash:" + t + "\n");
        String id = send(all, local("s@example.org", "r@example.net"), MESSAGE);
        assertEquals("sender@example.com", fx.queued(id).envelope().sender());
        assertEquals(List.of("rcpt@example.com"), fx.recipients(id));
        assertTrue(fx.content(id).startsWith("From: Sender <sender@example.com>\r\nTo: rcpt@example.com\r\n"),
                fx.content(id));

        Cleanup some = fx.cleanup("canonical_maps = texthash:" + t + "\ncanonical_classes = envelope_recipient, header_sender\n");
        id = send(some, local("s@example.org", "r@example.net"), MESSAGE);
        assertEquals("s@example.org", fx.queued(id).envelope().sender());
        assertEquals(List.of("rcpt@example.com"), fx.recipients(id));
        assertTrue(fx.content(id).startsWith("From: Sender <sender@example.com>\r\nTo: r@example.net\r\n"));
        assertEquals(fx.opened.get(), fx.closed.get(), "every table handle is closed with its message");
    }

    @Test
    void blindCopiesFromAlwaysBccAndTheSenderAndRecipientBccMapsWithNotifyNever() throws Exception {
        Path bySender = fx.file("sbcc", "boss@example.org audit-boss@example.com");
        Path byRcpt = fx.file("rbcc", "sales@example.net archive@example.com", "@example.org domain-copy@example.com");
        Path aliases = fx.file("virtual", "archive@example.com a1@example.com a2@example.com");
        Cleanup c = fx.cleanup("always_bcc = journal@example.com\nsender_bcc_maps = texthash:" + bySender
                + "\nrecipient_bcc_maps = texthash:" + byRcpt + "\nvirtual_alias_maps = texthash:" + aliases + "\n");
        String id = send(c, local("boss@example.org", "sales@example.net", "journal@example.com"), MESSAGE);
        assertEquals(List.of("sales@example.net", "journal@example.com", "audit-boss@example.com", "a1@example.com",
                "a2@example.com"), fx.recipients(id), "queued recipients first; a bcc address already there is not "
                + "added twice; bcc addresses are expanded like any recipient");
        for (var r : fx.queued(id).envelope().recipients().subList(2, 5)) {
            assertEquals(List.of("NEVER"), r.notifyOn(), r.address());
        }
        assertEquals(List.of(), fx.queued(id).envelope().recipients().get(0).notifyOn());
        assertFalse(fx.content(id).contains("audit-boss"), "a blind copy leaves no trace in the headers");
    }

    @Test
    void senderAndRecipientCanonicalMapsComeFirstEachForItsOwnSide() throws Exception {
        Path sender = fx.file("sender", "a@example.org b@example.org");
        Path rcpt = fx.file("rcpt", "a@example.org x@example.org");
        Path common = fx.file("common", "b@example.org c@example.org", "x@example.org y@example.org");
        Cleanup c = fx.cleanup("sender_canonical_maps = texthash:" + sender + "\nrecipient_canonical_maps = texthash:"
                + rcpt + "\ncanonical_maps = texthash:" + common + "\n");
        String id = send(c, local("a@example.org", "a@example.org"),
                "From: a@example.org\r\nCc: a@example.org\r\n\r\nx\r\n");
        assertEquals("c@example.org", fx.queued(id).envelope().sender(), "sender_canonical, then canonical");
        assertEquals(List.of("y@example.org"), fx.recipients(id), "recipient_canonical, then canonical");
        assertTrue(fx.content(id).startsWith("From: c@example.org\r\nCc: y@example.org\r\n"), fx.content(id));

        Cleanup headersOnly = fx.cleanup("sender_canonical_maps = texthash:" + sender
                + "\nsender_canonical_classes = header_sender\n");
        id = send(headersOnly, local("a@example.org", "z@example.net"), "From: a@example.org\r\n\r\nx\r\n");
        assertEquals("a@example.org", fx.queued(id).envelope().sender());
        assertTrue(fx.content(id).startsWith("From: b@example.org\r\n"));
    }

    @Test
    void lookupOrderIsFullAddressThenLocalPartForLocalDomainsThenAtDomain() throws Exception {
        Path t = fx.file("canonical",
                "joe@example.com full@example.net",
                "joe local-part@example.net",
                "@example.com @example.net",
                "@old.example.org new.example.org-postmaster@example.net");
        Cleanup c = fx.cleanup("mydestination = example.com, mx.example.com\nrecipient_delimiter = +\n"
                + "canonical_maps = texthash:" + t + "\n");
        String id = send(c, remote("", "joe@example.com", "joe@mx.example.com", "joe@elsewhere.example",
                "ann@example.com", "joe+tag@example.com", "ann+tag@example.com", "joe+bare", "bob@old.example.org"),
                "Subject: x\r\n\r\nx\r\n");
        assertEquals(List.of(
                "full@example.net", // user@domain first
                "local-part@example.net", // user, for a domain of mydestination
                "joe@elsewhere.example", // not local: never the bare user key
                "ann@example.net", // @domain keeps the user part
                "full+tag@example.net", // user+ext@domain, then user@domain with the extension propagated
                "ann+tag@example.net", // @domain keeps the whole user part, extension included
                "local-part+bare@example.net", // a bare name is completed with $myorigin (mx.example.com), local
                "new.example.org-postmaster@example.net"), fx.recipients(id));
    }

    @Test
    void virtualAliasesExpandRecursivelyOneToManyAndKeepTheOriginalRecipient() throws Exception {
        Path t = fx.file("virtual",
                "team@example.com ann@example.com, bob@example.com",
                "ann@example.com ann@mail.example.com",
                "bob@example.com bob@example.com, archive@example.com",
                "dup@example.com ann@mail.example.com, ann@mail.example.com",
                "bare@example.com postmaster");
        Cleanup c = fx.cleanup("virtual_alias_maps = texthash:" + t + "\n");
        Submission s = new Submission("s@example.org", Map.of(), List.of(
                new Submission.Recipient("team@example.com", List.of("FAILURE"), Optional.empty()),
                new Submission.Recipient("dup@example.com", List.of(), Optional.of("rfc822;given@example.com")),
                new Submission.Recipient("bare@example.com", List.of(), Optional.empty()),
                new Submission.Recipient("other@example.net", List.of(), Optional.empty())),
                new ClientInfo("192.0.2.7", "c", "h", false, Optional.empty()), "ESMTP", Submission.Actions.NONE);
        String id = send(c, s, "Subject: x\r\n\r\nx\r\n");
        List<Envelope.Recipient> r = fx.queued(id).envelope().recipients();
        assertEquals(List.of("ann@mail.example.com", "bob@example.com", "archive@example.com", "ann@mail.example.com",
                "postmaster@mx.example.com", "other@example.net"), r.stream().map(Envelope.Recipient::address).toList(),
                "bob maps to itself and more: kept once, not expanded again; dup's two equal results queued once");
        assertEquals(Optional.of("rfc822;team@example.com"), r.get(0).originalRecipient());
        assertEquals(List.of("FAILURE"), r.get(2).notifyOn(), "DSN NOTIFY goes with every expansion");
        assertEquals(Optional.of("rfc822;given@example.com"), r.get(3).originalRecipient(), "a client's ORCPT wins");
        assertEquals(Optional.empty(), r.get(5).originalRecipient(), "an unchanged recipient gets no ORCPT");
    }

    @Test
    void virtualAliasLoopsAndLimitsRefuseTheMessageForNowAndQueueNothing() throws Exception {
        Path t = fx.file("virtual",
                "a@example.com b@example.com",
                "b@example.com a@example.com",
                "wide@example.com 1@example.com, 2@example.com, 3@example.com, 4@example.com",
                "deep@example.com d1@example.com",
                "d1@example.com d2@example.com",
                "d2@example.com d3@example.com");
        Cleanup c = fx.cleanup("virtual_alias_maps = texthash:" + t + "\nvirtual_alias_expansion_limit = 3\n"
                + "virtual_alias_recursion_limit = 2\n");
        IOException loop = assertThrows(IOException.class, () -> c.open(remote("s@example.org", "a@example.com")));
        assertTrue(loop.getMessage().contains("unreasonable virtual_alias_maps map nesting for a@example.com"),
                loop.getMessage());
        IOException wide = assertThrows(IOException.class, () -> c.open(remote("s@example.org", "wide@example.com")));
        assertTrue(wide.getMessage().contains("expansion size"), wide.getMessage());
        assertThrows(IOException.class, () -> c.open(remote("s@example.org", "deep@example.com")));
        assertTrue(fx.queueIsEmpty());
        assertEquals(fx.opened.get(), fx.closed.get());

        Cleanup roomy = fx.cleanup("virtual_alias_maps = texthash:" + t + "\n");
        String id = send(roomy, remote("s@example.org", "deep@example.com", "wide@example.com"), "S: x\r\n\r\nx\r\n");
        assertEquals(List.of("d3@example.com", "1@example.com", "2@example.com", "3@example.com", "4@example.com"),
                fx.recipients(id), "within Postfix's default limits (1000)");
    }

    @Test
    void masqueradingStripsSubdomainsWithExceptionsForTheDefaultClasses() throws Exception {
        Cleanup c = fx.cleanup("masquerade_domains = !keep.example.com, example.com\nmasquerade_exceptions = root\n");
        String id = send(c, local("joe@host.example.com", "ann@host.example.com", "x@a.keep.example.com"),
                "From: joe@host.example.com\r\nTo: Ann <ann@host.example.com>, root@host.example.com,"
                        + " x@a.keep.example.com\r\n\r\nx\r\n");
        assertEquals("joe@example.com", fx.queued(id).envelope().sender());
        assertEquals(List.of("ann@host.example.com", "x@a.keep.example.com"), fx.recipients(id),
                "envelope recipients are not in masquerade_classes by default");
        assertTrue(fx.content(id).startsWith("From: joe@example.com\r\nTo: Ann <ann@example.com>,"
                + " root@host.example.com, x@a.keep.example.com\r\n"), fx.content(id));
    }

    @Test
    void headersKeepDisplayNamesCommentsAndFoldingAndUnchangedOnesStayByteForByte() throws Exception {
        Path t = fx.file("canonical", "joe@old.example joe.public@new.example");
        Cleanup c = fx.cleanup("canonical_maps = texthash:" + t + "\n");
        String headers = "From: \"Public, Joe (Q.)\" <joe@old.example> (at work)\r\n"
                + "To:   Team: joe@old.example (him),\r\n\t<@relay.example:joe@old.example>, other@x.example;\r\n"
                + "Cc: =?ISO-8859-1?Q?Jos=E9?= <jose@x.example>,\r\n  \"odd  spacing\"  <a@x.example>\r\n"
                + "Reply-To: joe (no at sign)\r\n"
                + "X-Mentions: joe@old.example\r\n"
                + "Subject: joe@old.example\r\n\r\nbody joe@old.example\r\n";
        String id = send(c, local("s@example.org", "r@example.net"), headers);
        assertEquals("From: \"Public, Joe (Q.)\" <joe.public@new.example> (at work)\r\n"
                + "To:   Team: joe.public@new.example (him),\r\n\t<@relay.example:joe.public@new.example>, other@x.example;\r\n"
                + "Cc: =?ISO-8859-1?Q?Jos=E9?= <jose@x.example>,\r\n  \"odd  spacing\"  <a@x.example>\r\n"
                + "Reply-To: joe@mx.example.com (no at sign)\r\n"
                + "X-Mentions: joe@old.example\r\n"
                + "Subject: joe@old.example\r\n\r\nbody joe@old.example\r\n", fx.content(id));
    }

    @Test
    void remoteClientsHeadersAreLeftAloneUnlessRemoteHeaderRewriteDomainIsSet() throws Exception {
        Path t = fx.file("canonical", "joe@old.example joe@new.example");
        String msg = "From: joe@old.example\r\nTo: ann\r\n\r\nx\r\n";
        Cleanup c = fx.cleanup("canonical_maps = texthash:" + t + "\n");
        String id = send(c, remote("joe@old.example", "r@example.net"), msg);
        assertEquals("joe@new.example", fx.queued(id).envelope().sender(), "the envelope is always rewritten");
        assertEquals(msg, fx.content(id), "Postfix 2.2+: no header rewriting for remote clients by default");

        Cleanup domain = fx.cleanup("canonical_maps = texthash:" + t + "\nremote_header_rewrite_domain = domain.invalid\n");
        id = send(domain, remote("joe@old.example", "r@example.net"), msg);
        assertEquals("From: joe@new.example\r\nTo: ann@domain.invalid\r\n\r\nx\r\n", fx.content(id));

        Cleanup all = fx.cleanup("canonical_maps = texthash:" + t + "\nlocal_header_rewrite_clients = permit_mynetworks\n"
                + "mynetworks = 192.0.2.0/24\n");
        id = send(all, remote("joe@old.example", "r@example.net"), msg);
        assertEquals("From: joe@new.example\r\nTo: ann@mx.example.com\r\n\r\nx\r\n", fx.content(id));
    }

    @Test
    void aTableFailureRefusesTheMessageForNowAndNothingIsQueued() throws Exception {
        Cleanup envelope = fx.cleanup("virtual_alias_maps = fail:virtual\n");
        IOException e = assertThrows(IOException.class, () -> envelope.open(remote("s@example.org", "r@example.net")));
        assertTrue(e.getMessage().contains("virtual_alias_maps map lookup problem for r@example.net"), e.getMessage());
        Cleanup missing = fx.cleanup("sender_canonical_maps = texthash:" + tmp.resolve("absent") + "\n");
        assertThrows(IOException.class, () -> missing.open(remote("s@example.org", "r@example.net")));
        assertTrue(fx.queueIsEmpty());

        Cleanup headers = fx.cleanup("canonical_maps = fail:canonical\ncanonical_classes = header_recipient\n");
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class,
                () -> send(headers, local("s@example.org", "r@example.net"), MESSAGE));
        assertEquals("451 4.3.0 Error: queue file write error", r.reply().toString());
        assertTrue(fx.queueIsEmpty());
        assertEquals(fx.opened.get(), fx.closed.get());
    }

    /**
     * Tutorial section 3, smtp.univ.es with postfix-style virtual domains: its main.cf fragments and its
     * /etc/postfix/virtual verbatim. The tutorial's table is {@code hash:/etc/postfix/virtual}; the same text is
     * opened here as {@code texthash:} (bundle table-simple), the last main.cf line overriding the tutorial's.
     */
    @Test
    void theTutorialsPostfixStyleVirtualDomain() throws Exception {
        Path virtual = copy("3-virtual");
        Cleanup c = fx.cleanup(resource("2.2-main.cf") + resource("3-smtp-postfix-main.cf")
                + "virtual_alias_maps = texthash:" + virtual + "\n");
        String id = send(c, remote("someone@example.org", "gerente@fund-univ.es", "gestion@fund-univ.es",
                "tesorero@fund-univ.es", "gramos@fund-univ.es", "nadie@fund-univ.es", "rgarcia@univ.es"),
                "Subject: x\r\n\r\nx\r\n");
        assertEquals(List.of("rgarcia@univ.es", "laurar@univ.es", "jheras@pastorro.com", "gramos@univ.es",
                "nadie@fund-univ.es", "rgarcia@univ.es"), fx.recipients(id),
                "bare results get @$myorigin (univ.es); an address without entry is left for the resolver to bounce"
                        + " (User unknown in virtual alias table); rgarcia@univ.es twice, from two recipients");

        // the sendmail-style alternative of the same section has no virtual table: fund-univ.es is local
        Cleanup sendmail = fx.cleanup(resource("2.2-main.cf") + resource("3-smtp-sendmail-main.cf"));
        id = send(sendmail, remote("someone@example.org", "gerente@fund-univ.es"), "Subject: x\r\n\r\nx\r\n");
        assertEquals(List.of("gerente@fund-univ.es"), fx.recipients(id));
    }

    @Test
    void headerAddressesAreFoundWhereTheyStand() {
        byte[] b = "To: a@x, \"B, b\" <b@y> (c), Group: d@z;, (only a comment), e\r\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(List.of("a@x", "b@y", "d@z", "e"),
                HeaderAddresses.addresses(b, 3, b.length).stream().map(HeaderAddresses.Found::text).toList());
        byte[] phrase = "To: undisclosed recipients\r\n".getBytes(StandardCharsets.UTF_8);
        assertEquals(List.of(), HeaderAddresses.addresses(phrase, 3, phrase.length), "several words are no address");
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = AddressRewritingTest.class.getResourceAsStream("/tutorial/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private Path copy(String name) throws IOException {
        return Files.writeString(tmp.resolve(name), resource(name));
    }
}
