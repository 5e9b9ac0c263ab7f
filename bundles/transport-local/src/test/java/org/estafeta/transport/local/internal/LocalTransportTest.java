package org.estafeta.transport.local.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.estafeta.api.message.MessageContent;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalTransportTest {
    private static final MessageContent MESSAGE = Fixtures.message("From: ana@example.org\nSubject: hola\n\nFrom aqui\nfin\n");

    @TempDir
    Path dir;
    Path spool;
    Path home;
    final Fixtures.Context context = new Fixtures.Context();
    final FakeCleanup cleanup = new FakeCleanup();
    LocalTransport local;

    @BeforeEach
    void setUp() throws Exception {
        Fixtures.open(dir);
        spool = Fixtures.open(Files.createDirectory(dir.resolve("spool")));
        home = Files.createDirectory(dir.resolve("luis"));
        Mailbox.chown(home, new Mailbox.Owner(Fixtures.uid(), Fixtures.gid()));
        local = new LocalTransport(new Fixtures.Tables(), cleanup, Fixtures.accounts(Map.of("luis", home)));
        context.with("myhostname", "host.example.com").with("myorigin", "host.example.com")
                .with("mydestination", "host.example.com, localhost").with("mail_spool_directory", spool.toString())
                .with("alias_maps", "").with("message_size_limit", "10240000");
    }

    private RecipientResult deliver(String rcpt) {
        return deliver(rcpt, MESSAGE);
    }

    private RecipientResult deliver(String rcpt, MessageContent content) {
        List<RecipientResult> r = local.deliver(Fixtures.request("local", "ana@example.org", content, rcpt), context);
        assertEquals(1, r.size());
        assertEquals("local", r.get(0).relay());
        return r.get(0);
    }

    private static void assertResult(RecipientResult r, Status status, String dsn, String text) {
        assertEquals(status, r.status(), r.toString());
        assertEquals(dsn, r.reply().enhancedStatus(), r.toString());
        assertEquals(text, r.reply().text());
    }

    private Path aliases(String text) throws Exception {
        Path p = dir.resolve("aliases");
        Files.writeString(p, text);
        context.with("alias_maps", "texthash:" + p);
        return p;
    }

    @Test
    void unknownUserBouncesAsPostfixLocalDoes() {
        assertResult(deliver("nadie@host.example.com"), Status.BOUNCED, "5.1.1", "unknown user: \"nadie\"");
    }

    @Test
    void userMailboxInTheSpoolIsAnMboxOwnedByTheUser() throws Exception {
        assertResult(deliver("Luis@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to mailbox");
        Path mbox = spool.resolve("luis");
        assertEquals("From ana@example.org  Tue Jan  7 12:02:20 2003\nReturn-Path: <ana@example.org>\n"
                + "X-Original-To: Luis@host.example.com\nDelivered-To: luis@host.example.com\n"
                + "From: ana@example.org\nSubject: hola\n\n>From aqui\nfin\n\n", Files.readString(mbox));
        assertEquals(Fixtures.uid(), Fixtures.owner(mbox));
    }

    @Test
    void homeMailboxEndingInSlashIsAMaildir() throws Exception {
        context.with("home_mailbox", "Maildir/");
        assertResult(deliver("luis@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to maildir");
        try (var s = Files.list(home.resolve("Maildir/new"))) {
            assertEquals(1, s.count());
        }
    }

    @Test
    void recipientDelimiterExtensionsReachTheUser() throws Exception {
        context.with("recipient_delimiter", "+");
        assertResult(deliver("luis+fiesta@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to mailbox");
        assertTrue(Files.readString(spool.resolve("luis")).contains("Delivered-To: luis+fiesta@host.example.com\n"));
    }

    @Test
    void configuredSizeLimitBelowMessageSizeLimitIsFatal() {
        context.with("mailbox_size_limit", "1000");
        assertResult(deliver("luis@host.example.com"), Status.DEFERRED, "4.3.0", "unknown mail transport error");
        assertTrue(context.lines.contains(
                "INFO fatal: configuration error: mailbox_size_limit is smaller than message_size_limit"), context.lines.toString());
        assertTrue(Files.notExists(spool.resolve("luis")));
    }

    @Test
    void fullMailboxBouncesWithPostfixsText() throws Exception {
        context.with("mailbox_size_limit", "100").with("message_size_limit", "100");
        RecipientResult r = deliver("luis@host.example.com");
        assertResult(r, Status.BOUNCED, "5.2.2", "cannot update mailbox " + spool.resolve("luis")
                + " for user luis. error writing message: File too large");
    }

    @Test
    void aliasToALocalUserIsDeliveredAtOnce() throws Exception {
        aliases("postmaster root-alias\nroot-alias luis\n");
        assertResult(deliver("postmaster@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to mailbox");
        assertTrue(Files.readString(spool.resolve("luis")).contains("Delivered-To: luis@host.example.com\n"));
        assertTrue(cleanup.messages().isEmpty());
    }

    @Test
    void aliasToARemoteAddressIsForwardedThroughCleanup() throws Exception {
        aliases("fuera someone@remote.example, other@remote.example\n");
        assertResult(deliver("fuera@host.example.com"), Status.DELIVERED, "2.0.0", "forwarded as 4F000000001");
        FakeCleanup.Message m = cleanup.single();
        assertEquals("ana@example.org", m.envelope().sender());
        assertEquals(List.of("someone@remote.example", "other@remote.example"),
                m.envelope().recipients().stream().map(r -> r.address()).toList());
        assertTrue(m.text().startsWith("Delivered-To: fuera@host.example.com\r\nFrom: ana@example.org\r\n"), m.text());
    }

    @Test
    void ownerAliasBecomesTheSenderOfTheListCopy() throws Exception {
        aliases("lista someone@remote.example\nowner-lista luis\n");
        assertResult(deliver("lista@host.example.com"), Status.DELIVERED, "2.0.0", "forwarded as 4F000000001");
        assertEquals("owner-lista@host.example.com", cleanup.single().envelope().sender());
    }

    @Test
    void forwardingLoopBounces() throws Exception {
        aliases("fuera someone@remote.example\n");
        assertResult(deliver("fuera@host.example.com",
                Fixtures.message("Delivered-To: fuera@host.example.com\nSubject: x\n\nx\n")),
                Status.BOUNCED, "5.4.6", "mail forwarding loop for fuera@host.example.com");
    }

    @Test
    void commandInAnAliasGetsTheMessageOnStdinAsDefaultPrivs() throws Exception {
        Path out = dir.resolve("out");
        Path cmd = Fixtures.script(dir, "cmd.sh", "id -u > " + out + ".uid\nprintf '%s' \"$RECIPIENT\" > " + out
                + ".rcpt\ncat > " + out + "\n");
        aliases("cmd \"|" + cmd + " arg\"\n");
        assertResult(deliver("cmd@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to command: " + cmd + " arg");
        assertEquals("From ana@example.org  Tue Jan  7 12:02:20 2003\nReturn-Path: <ana@example.org>\n"
                + "X-Original-To: cmd@host.example.com\nDelivered-To: cmd@host.example.com\n"
                + "From: ana@example.org\nSubject: hola\n\nFrom aqui\nfin\n", Files.readString(out));
        assertEquals(Fixtures.uid() + "\n", Files.readString(Path.of(out + ".uid")), "default_privs (nobody) when root");
        assertEquals("cmd@host.example.com", Files.readString(Path.of(out + ".rcpt")));
    }

    @Test
    void commandExitStatusesMapAsPostfixDoes() throws Exception {
        Path t = Fixtures.script(dir, "t.sh", "echo busy; exit 75\n");
        Path f = Fixtures.script(dir, "f.sh", "echo nope; exit 1\n");
        aliases("t |" + t + "\nf |" + f + "\n");
        assertResult(deliver("t@host.example.com"), Status.DEFERRED, "4.3.0", "temporary failure. Command output: busy");
        assertResult(deliver("f@host.example.com"), Status.BOUNCED, "5.3.0",
                "Command died with status 1: \"" + f + "\". Command output: nope");
    }

    @Test
    void commandsAndFilesAreRestrictedByTheAllowParameters() throws Exception {
        aliases("cmd |/bin/true\nfile " + dir.resolve("archive") + "\n");
        context.with("allow_mail_to_commands", "forward").with("allow_mail_to_files", "forward");
        assertResult(deliver("cmd@host.example.com"), Status.BOUNCED, "5.7.1", "mail to command is restricted");
        assertResult(deliver("file@host.example.com"), Status.BOUNCED, "5.7.1", "mail to file is restricted");
    }

    @Test
    void fileTargetIsAppendedAsAnMbox() throws Exception {
        Path archive = dir.resolve("archive");
        aliases("file " + archive + "\n");
        assertResult(deliver("file@host.example.com"), Status.DELIVERED, "2.0.0", "delivered to file: " + archive);
        assertTrue(Files.readString(archive).startsWith("From ana@example.org  "));
        assertEquals(Fixtures.uid(), Fixtures.owner(archive));
    }

    @Test
    void fileTargetTheDefaultUserCannotWriteIsRefused() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Fixtures.root(), "needs root: the check is for another uid");
        Path locked = Files.createDirectory(dir.resolve("locked")); // root's, 0755
        Files.setPosixFilePermissions(locked, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        aliases("file " + locked.resolve("archive") + "\n");
        assertResult(deliver("file@host.example.com"), Status.BOUNCED, "5.2.0", "cannot append message to file "
                + locked.resolve("archive") + ": cannot open file: Permission denied");
        assertTrue(Files.notExists(locked.resolve("archive")));
    }

    @Test
    void includeFileAddressesAreForwarded() throws Exception {
        Path list = dir.resolve("list");
        Files.writeString(list, "# members\nluis, x@remote.example\n");
        aliases("lista :include:" + list + "\n");
        assertResult(deliver("lista@host.example.com"), Status.DELIVERED, "2.0.0", "forwarded as 4F000000001");
        assertEquals(List.of("luis@host.example.com", "x@remote.example"),
                cleanup.single().envelope().recipients().stream().map(r -> r.address()).toList());
    }

    @Test
    void dotForwardInTheHomeDirectory() throws Exception {
        Path out = dir.resolve("fwd-out");
        Path cmd = Fixtures.script(dir, "fwd.sh", "cat > " + out + "\n");
        Path fwd = home.resolve(".forward");
        Files.writeString(fwd, "\\luis, \"|" + cmd + "\"\n");
        Mailbox.chown(fwd, new Mailbox.Owner(Fixtures.uid(), Fixtures.gid()));
        assertResult(deliver("luis@host.example.com"), Status.DELIVERED, "2.0.0",
                "delivered to mailbox; delivered to command: " + cmd);
        assertTrue(Files.readString(out).contains("Delivered-To: luis@host.example.com\n"));
        assertTrue(Files.readString(spool.resolve("luis")).contains("Subject: hola"));
    }

    @Test
    void dotForwardToARemoteAddressForwards() throws Exception {
        Path fwd = home.resolve(".forward");
        Files.writeString(fwd, "luis@remote.example\n");
        Mailbox.chown(fwd, new Mailbox.Owner(Fixtures.uid(), Fixtures.gid()));
        assertResult(deliver("luis@host.example.com"), Status.DELIVERED, "2.0.0", "forwarded as 4F000000001");
        assertTrue(Files.notExists(spool.resolve("luis")));
    }
}
