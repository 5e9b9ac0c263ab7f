package org.estafeta.transport.local.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.TextBody;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.estafeta.api.message.MessageContent;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VirtualTransportTest {
    private static final MessageContent MESSAGE = Fixtures.message("From: ana@example.org\nTo: luis@example.com\n"
            + "Subject: =?UTF-8?Q?ma=C3=B1ana?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n"
            + "Content-Transfer-Encoding: 8bit\n\nHasta mañana.\nFrom here\n");

    @TempDir
    Path dir;
    Path base;
    final Fixtures.Context context = new Fixtures.Context();
    final VirtualTransport virtual = new VirtualTransport(new Fixtures.Tables());

    @BeforeEach
    void setUp() throws Exception {
        base = Files.createDirectory(dir.resolve("vmail"));
        Path map = dir.resolve("vmailbox");
        Files.writeString(map, "luis@example.com example.com/luis/\nana@example.com example.com/ana\n"
                + "@example.net example.net/catchall/\n");
        Files.createDirectories(base.resolve("example.com"));
        context.with("virtual_mailbox_base", base.toString()).with("virtual_mailbox_maps", "texthash:" + map)
                .with("virtual_uid_maps", "static:" + Fixtures.uid()).with("virtual_gid_maps", "static:" + Fixtures.gid())
                .with("virtual_minimum_uid", "100").with("message_size_limit", "10240000");
    }

    private RecipientResult deliver(String rcpt) {
        List<RecipientResult> r = virtual.deliver(Fixtures.request("virtual", "ana@example.org", MESSAGE, rcpt), context);
        assertEquals("virtual", r.get(0).relay());
        return r.get(0);
    }

    @Test
    void maildirFromTheMapOwnedByTheStaticUidAndReadableByMime4j() throws Exception {
        RecipientResult r = deliver("Luis@Example.com");
        assertEquals(Status.DELIVERED, r.status(), r.toString());
        assertEquals("delivered to maildir", r.reply().text());
        Path newDir = base.resolve("example.com/luis/new");
        List<Path> files;
        try (var s = Files.list(newDir)) {
            files = s.toList();
        }
        assertEquals(1, files.size());
        assertEquals(Fixtures.uid(), Fixtures.owner(files.get(0)));
        assertEquals(Fixtures.uid(), Fixtures.owner(base.resolve("example.com/luis")), "created maildir is the user's");
        // a real MIME parser reads what a mail client would
        Message m;
        try (InputStream in = Files.newInputStream(files.get(0))) {
            m = new DefaultMessageBuilder().parseMessage(in);
        }
        assertEquals("mañana", m.getSubject());
        assertEquals("luis@example.com", m.getHeader().getField("Delivered-To").getBody());
        assertEquals("<ana@example.org>", m.getHeader().getField("Return-Path").getBody());
        String body = new String(((TextBody) m.getBody()).getInputStream().readAllBytes(), "UTF-8");
        assertEquals("Hasta mañana.\nFrom here\n", body, "no >From quoting in a Maildir");
    }

    @Test
    void mboxWhenTheResultHasNoSlashAndCatchAllByDomain() throws Exception {
        assertEquals("delivered to mailbox", deliver("ana@example.com").reply().text());
        assertTrue(Files.readString(base.resolve("example.com/ana")).contains("\n>From here\n"));
        assertEquals("delivered to maildir", deliver("quien@example.net").reply().text());
        assertTrue(Files.isDirectory(base.resolve("example.net/catchall/new")));
    }

    @Test
    void unknownRecipientBouncesWithPostfixsText() {
        RecipientResult r = deliver("nadie@example.com");
        assertEquals(Status.BOUNCED, r.status());
        assertEquals("550 5.1.1 unknown user: \"nadie@example.com\"", r.reply().toString());
    }

    @Test
    void uidBelowTheMinimumDefersAsAConfigurationError() throws Exception {
        context.with("virtual_minimum_uid", Integer.toString(Fixtures.uid() + 1));
        RecipientResult r = deliver("luis@example.com");
        assertEquals(Status.DEFERRED, r.status());
        assertEquals("4.3.5 mail system configuration error", r.reply().enhancedStatus() + " " + r.reply().text());
        assertTrue(context.lines.stream().anyMatch(l -> l.contains("recipient luis@example.com: bad uid")), context.lines.toString());
        assertTrue(Files.notExists(base.resolve("example.com/luis")));
    }

    @Test
    void mailboxLimitAndFatalCheck() throws Exception {
        context.with("virtual_mailbox_limit", "50").with("message_size_limit", "40");
        RecipientResult r = deliver("ana@example.com");
        assertEquals(Status.BOUNCED, r.status(), r.toString());
        assertEquals("5.2.2", r.reply().enhancedStatus());
        context.with("message_size_limit", "60");
        r = deliver("ana@example.com");
        assertEquals(Status.DEFERRED, r.status());
        assertTrue(context.lines.contains(
                "INFO fatal: configuration error: virtual_mailbox_limit is smaller than message_size_limit"));
    }
}
