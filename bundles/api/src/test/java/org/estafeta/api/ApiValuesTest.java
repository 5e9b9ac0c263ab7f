package org.estafeta.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Header;
import org.estafeta.api.message.Reply;
import org.estafeta.api.restriction.RestrictionVerdict;
import org.estafeta.api.table.TableSpec;
import org.estafeta.api.transport.RecipientResult;
import org.junit.jupiter.api.Test;

/** The value types refuse contradictions at construction, so no plugin can hand the core an impossible verdict. */
class ApiValuesTest {
    @Test
    void replyCodeAndEnhancedStatusMustAgree() {
        assertEquals("554 5.7.1 Access denied", new Reply(554, "5.7.1", "Access denied").toString());
        assertThrows(IllegalArgumentException.class, () -> new Reply(450, "5.7.1", "x"));
        assertThrows(IllegalArgumentException.class, () -> new Reply(199, "2.0.0", "x"));
        assertThrows(IllegalArgumentException.class, () -> new Reply(250, "2.0", "x"));
        assertThrows(IllegalArgumentException.class, () -> new Reply(250, "2.0.0", "two\r\nlines"));
        assertThrows(IllegalArgumentException.class, () -> Reply.reject(451, "4.3.0", "x"));
        assertThrows(IllegalArgumentException.class, () -> Reply.tempfail(554, "5.3.0", "x"));
    }

    @Test
    void verdictsCheckTheClassOfTheirReply() {
        Reply temp = Reply.tempfail(451, "4.3.0", "try later");
        Reply perm = Reply.reject(554, "5.7.1", "no");
        assertThrows(IllegalArgumentException.class, () -> new FilterVerdict.Reject(temp));
        assertThrows(IllegalArgumentException.class, () -> new FilterVerdict.Defer(perm));
        assertThrows(IllegalArgumentException.class, () -> new RestrictionVerdict.Reject(temp));
        assertThrows(IllegalArgumentException.class, () -> new RestrictionVerdict.Defer(perm));
        assertThrows(IllegalArgumentException.class, () -> new RecipientResult("a@b", RecipientResult.Status.BOUNCED, temp));
        assertThrows(IllegalArgumentException.class, () -> new RecipientResult("a@b", RecipientResult.Status.DEFERRED, perm));
    }

    @Test
    void tableSpecParsesTypeAndName() {
        assertEquals(new TableSpec("hash", "/etc/postfix/transport"), TableSpec.parse("hash:/etc/postfix/transport"));
        assertEquals(new TableSpec("unix", "passwd.byname"), TableSpec.parse("unix:passwd.byname"));
        assertEquals("regexp:/x:y", TableSpec.parse("regexp:/x:y").toString());
        assertThrows(IllegalArgumentException.class, () -> TableSpec.parse("/etc/aliases"));
        assertThrows(IllegalArgumentException.class, () -> TableSpec.parse(":x"));
    }

    @Test
    void envelopeAndHeaderRefuseMalformedValues() {
        ClientInfo client = new ClientInfo("192.0.2.1", "unknown", "", false, Optional.empty());
        assertEquals("unknown[192.0.2.1]", client.hostAndAddress());
        assertThrows(IllegalArgumentException.class, () -> new Envelope("ID", "a@b", List.of(), client));
        assertEquals(true, new Envelope("ID", "", List.of("x@y"), client).isBounce());
        assertThrows(IllegalArgumentException.class, () -> new Header("Bad Name", "v"));
        assertThrows(IllegalArgumentException.class, () -> new Header("Bad:Name", "v"));
        assertEquals(true, new Header("Subject", "hi").is("SUBJECT"));
    }
}
