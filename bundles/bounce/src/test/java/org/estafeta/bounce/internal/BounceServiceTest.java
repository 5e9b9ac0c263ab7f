package org.estafeta.bounce.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.james.mime4j.dom.Entity;
import org.apache.james.mime4j.dom.Message;
import org.apache.james.mime4j.dom.Multipart;
import org.apache.james.mime4j.dom.SingleBody;
import org.apache.james.mime4j.dom.field.ContentTypeField;
import org.apache.james.mime4j.message.DefaultMessageBuilder;
import org.apache.james.mime4j.stream.MimeConfig;
import org.estafeta.api.message.Reply;
import org.estafeta.bounce.Notice;
import org.estafeta.bounce.Notice.Kind;
import org.estafeta.bounce.Notice.RecipientStatus;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.testing.cleanup.FakeCleanup;
import org.estafeta.testing.FakeSnapshot;
import org.estafeta.testing.RecordingLogger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.event.Level;

class BounceServiceTest {
    private static final Instant NOW = Instant.parse("2026-11-03T05:28:15Z");
    private static final long ARRIVAL = Instant.parse("2026-11-02T04:05:06Z").toEpochMilli();
    private static final String HEADERS = "Received: from client.example.org (client.example.org [192.0.2.9])\r\n"
            + "\tby mx.example.com (Postfix) with ESMTP id 4Fabc; Mon,  2 Nov 2026 04:05:06 +0000 (UTC)\r\n"
            + "From: Alice <alice@example.org>\r\n"
            + "To: bob@example.net\r\n"
            + "Subject: hello\r\n"
            + "Message-Id: <1@example.org>\r\n";
    private static final String ORIGINAL = HEADERS + "\r\nBody line 1\r\nSubject: not a header\r\n";

    @TempDir
    Path tmp;

    private final FakeCleanup cleanup = new FakeCleanup();
    private final RecordingLogger log = new RecordingLogger("bounce");
    private final BounceService bounce = new BounceService(cleanup, log, Clock.fixed(NOW, ZoneId.of("UTC")));

    // ---- building notices ----

    private static FakeSnapshot config(String... overrides) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("myhostname", "mx.example.com");
        p.put("mail_name", "Postfix");
        p.put("notify_classes", "resource, software");
        p.put("bounce_notice_recipient", "bounce-admin");
        p.put("2bounce_notice_recipient", "2bounce-admin");
        p.put("delay_notice_recipient", "delay-admin");
        p.put("double_bounce_sender", "double-bounce");
        p.put("bounce_size_limit", "50000");
        p.put("delay_warning_time", "4h");
        p.put("maximal_queue_lifetime", "5d");
        for (int i = 0; i < overrides.length; i += 2) {
            p.put(overrides[i], overrides[i + 1]);
        }
        return new FakeSnapshot(p);
    }

    private static Notice notice(Kind kind, ConfigSnapshot config, String sender, Map<String, String> params,
            Notice.Content content, RecipientStatus... rcpts) {
        return new Notice(kind, config, "4F1234ABCD", ARRIVAL, sender, params, List.of(rcpts), content);
    }

    private static Notice failure(ConfigSnapshot config, String sender, RecipientStatus... rcpts) {
        return notice(Kind.FAILURE, config, sender, Map.of(), original(ORIGINAL), rcpts);
    }

    private static Notice.Content original(String text) {
        return () -> new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8));
    }

    /** A remote 550 for {@code address}, with these NOTIFY values. */
    private static RecipientStatus rejected(String address, String... notify) {
        return new RecipientStatus(address, Optional.empty(), List.of(notify), "5.1.1",
                "550 5.1.1 <" + address + ">: Recipient address rejected: User unknown",
                Optional.of("mx.example.net[192.0.2.25]:25"), false);
    }

    private static RecipientStatus status(String address, String status, String diagnostic, String... notify) {
        return new RecipientStatus(address, Optional.empty(), List.of(notify), status, diagnostic, Optional.empty(),
                false);
    }

    // ---- reading reports ----

    private static Message parse(FakeCleanup.Message m) throws IOException {
        DefaultMessageBuilder builder = new DefaultMessageBuilder();
        builder.setMimeEntityConfig(MimeConfig.PERMISSIVE);
        return builder.parseMessage(new ByteArrayInputStream(m.content()));
    }

    private static List<Entity> parts(Message report) {
        return ((Multipart) report.getBody()).getBodyParts();
    }

    private static String text(Entity part) throws IOException {
        try (InputStream in = ((SingleBody) part.getBody()).getInputStream()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static String header(Entity e, String name) {
        return e.getHeader().getField(name) == null ? null : e.getHeader().getField(name).getBody();
    }

    /** The delivery-status part as groups of fields (per-message first, then one per recipient), unfolded. */
    private static List<Map<String, String>> dsn(Entity part) throws IOException {
        List<Map<String, String>> groups = new ArrayList<>();
        Map<String, String> group = null;
        String last = null;
        for (String line : text(part).split("\r\n")) {
            if (line.isEmpty()) {
                group = null;
            } else if (line.startsWith(" ") || line.startsWith("\t")) {
                group.put(last, group.get(last) + " " + line.strip());
            } else {
                if (group == null) {
                    group = new LinkedHashMap<>();
                    groups.add(group);
                }
                int colon = line.indexOf(':');
                last = line.substring(0, colon);
                assertFalse(group.containsKey(last), "field repeated: " + line);
                group.put(last, line.substring(colon + 1).strip());
            }
        }
        return groups;
    }

    // ---- the non-delivery report ----

    @Test
    void failureIsAMultipartReportToTheSenderFromTheNullSender() throws Exception {
        Optional<String> id = bounce.notify(failure(config(), "alice@example.org", rejected("bob@example.net")));

        FakeCleanup.Message m = cleanup.single();
        assertEquals(FakeCleanup.State.COMMITTED, m.state());
        assertEquals(Optional.of(m.queueId()), id);
        Submission env = m.envelope();
        assertEquals("", env.sender());
        assertEquals(List.of("alice@example.org"), env.recipients().stream().map(Submission.Recipient::address).toList());

        Message report = parse(m);
        assertEquals("MAILER-DAEMON@mx.example.com (Mail Delivery System)", header(report, "From"));
        assertEquals("Undelivered Mail Returned to Sender", report.getSubject());
        assertEquals("alice@example.org", header(report, "To"));
        assertEquals("auto-replied", header(report, "Auto-Submitted"));
        assertEquals("Tue,  3 Nov 2026 05:28:15 +0000 (UTC)", header(report, "Date"));
        assertEquals("multipart/report", report.getMimeType());
        assertEquals("delivery-status",
                ((ContentTypeField) report.getHeader().getField("Content-Type")).getParameter("report-type"));
        List<Entity> parts = parts(report);
        assertEquals(List.of("text/plain", "message/delivery-status", "message/rfc822"),
                parts.stream().map(Entity::getMimeType).toList());

        String human = text(parts.get(0));
        assertTrue(human.startsWith("This is the mail system at host mx.example.com.\r\n\r\n"
                + "I'm sorry to have to inform you that your message could not\r\n"
                + "be delivered to one or more recipients. It's attached below.\r\n"), human);
        assertTrue(human.contains("\r\n<bob@example.net>: host mx.example.net[192.0.2.25] said: 550 5.1.1\r\n"
                + "    <bob@example.net>: Recipient address rejected: User unknown\r\n"), human);

        Message returned = (Message) parts.get(2).getBody();
        assertEquals("<alice@example.org>", header(returned, "Return-Path"));
        assertEquals("hello", returned.getSubject());
        assertEquals("Body line 1\r\nSubject: not a header\r\n", text(returned));
        assertEquals(List.of("INFO 4F1234ABCD: sender non-delivery notification: " + m.queueId()), log.lines());
    }

    @Test
    void deliveryStatusFieldsPerMessageAndPerRecipient() throws Exception {
        RecipientStatus orcpt = new RecipientStatus("bob@example.net", Optional.of("rfc822;bob+2Bold@example.net"),
                List.of(), "5.1.1", "550 5.1.1 <bob@example.net>: Recipient address rejected: User unknown in "
                        + "virtual mailbox table; see https://example.net/help/for/a/long/explanation",
                Optional.of("mx.example.net[192.0.2.25]:25"), false);
        RecipientStatus local = status("carol@example.net", "5.4.6", "mail forwarding loop for carol@example.net");
        bounce.notify(notice(Kind.FAILURE, config(), "alice@example.org", Map.of("ENVID", "QQ+2B314"),
                original(ORIGINAL), orcpt, local));

        List<Map<String, String>> groups = dsn(parts(parse(cleanup.single())).get(1));
        assertEquals(3, groups.size());
        assertEquals(Map.of("Reporting-MTA", "dns; mx.example.com", "Original-Envelope-Id", "QQ+314",
                "X-Postfix-Queue-ID", "4F1234ABCD", "X-Postfix-Sender", "rfc822; alice@example.org",
                "Arrival-Date", "Mon,  2 Nov 2026 04:05:06 +0000 (UTC)"), groups.get(0));
        assertEquals(Map.of("Final-Recipient", "rfc822; bob@example.net",
                "Original-Recipient", "rfc822;bob+old@example.net", "Action", "failed", "Status", "5.1.1",
                "Remote-MTA", "dns; mx.example.net",
                "Diagnostic-Code", "smtp; " + orcpt.diagnostic()), groups.get(1));
        assertEquals(Map.of("Final-Recipient", "rfc822; carol@example.net", "Action", "failed", "Status", "5.4.6",
                "Diagnostic-Code", "X-Postfix; mail forwarding loop for carol@example.net"), groups.get(2));
    }

    @Test
    void longFieldsAreWrappedAtColumn79AsPostfixDoes() throws Exception {
        bounce.notify(failure(config(), "alice@example.org", status("bob@example.net", "5.0.0",
                "x".repeat(20) + " " + "y".repeat(40) + " " + "z".repeat(30) + " " + "w".repeat(90))));
        String body = text(parts(parse(cleanup.single())).get(1));
        int at = body.indexOf("Diagnostic-Code:");
        assertEquals("Diagnostic-Code: X-Postfix; " + "x".repeat(20) + "\r\n    " + "y".repeat(40) + " "
                + "z".repeat(30) + "\r\n    " + "w".repeat(90) + "\r\n", body.substring(at));
        for (String line : body.split("\r\n")) {
            assertTrue(line.length() <= 79 || !line.strip().contains(" "), line);
        }
    }

    @Test
    void retHdrsReturnsTheHeadersOnly() throws Exception {
        bounce.notify(notice(Kind.FAILURE, config(), "alice@example.org", Map.of("RET", "HDRS"), original(ORIGINAL),
                rejected("bob@example.net")));
        Entity part = parts(parse(cleanup.single())).get(2);
        assertEquals("text/rfc822-headers", part.getMimeType());
        assertEquals("Undelivered Message Headers", header(part, "Content-Description"));
        assertEquals("Return-Path: <alice@example.org>\r\n" + HEADERS, text(part));
    }

    @Test
    void anOriginalUpToTheLimitIsReturnedWholeOneByteMoreAsHeaders() throws Exception {
        int size = ORIGINAL.getBytes(StandardCharsets.UTF_8).length;
        bounce.notify(failure(config("bounce_size_limit", Integer.toString(size)), "alice@example.org",
                rejected("bob@example.net")));
        bounce.notify(failure(config("bounce_size_limit", Integer.toString(size - 1)), "alice@example.org",
                rejected("bob@example.net")));
        List<FakeCleanup.Message> sent = cleanup.committed();
        assertEquals("message/rfc822", parts(parse(sent.get(0))).get(2).getMimeType());
        assertEquals("text/rfc822-headers", parts(parse(sent.get(1))).get(2).getMimeType());
    }

    @Test
    void aLargeOriginalIsStreamedAndReturnedAsHeadersWithoutReadingItAll() throws Exception {
        long bodySize = 50L * 1024 * 1024;
        AtomicLong read = new AtomicLong();
        Notice.Content big = () -> new InputStream() {
            private final byte[] head = HEADERS.concat("\r\n").getBytes(StandardCharsets.US_ASCII);
            private long pos;

            @Override
            public int read() {
                if (pos >= head.length + bodySize) {
                    return -1;
                }
                read.incrementAndGet();
                long p = pos++;
                return p < head.length ? head[(int) p] : (p - head.length) % 78 == 77 ? '\n' : 'a';
            }
        };
        bounce.notify(notice(Kind.FAILURE, config(), "alice@example.org", Map.of(), big,
                rejected("bob@example.net")));

        FakeCleanup.Message m = cleanup.single();
        Entity part = parts(parse(m)).get(2);
        assertEquals("text/rfc822-headers", part.getMimeType());
        assertEquals("Return-Path: <alice@example.org>\r\n" + HEADERS, text(part));
        assertTrue(m.content().length < 10_000, "report size " + m.content().length);
        // one probe of limit + 1 bytes, then the headers (and what one buffer reads ahead)
        assertTrue(read.get() <= 50_001 + 8192, "bytes read: " + read.get());
    }

    @Test
    void aMissingOriginalLeavesAPlaceHolder() throws Exception {
        bounce.notify(notice(Kind.FAILURE, config(), "alice@example.org", Map.of(), () -> {
            throw new NoSuchFileException("/var/spool/estafeta/active/4F1234ABCD");
        }, rejected("bob@example.net")));
        assertTrue(cleanup.single().text().contains("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: 8bit\r\n"
                + "\r\n\t--- Undelivered message unavailable ---\r\n\r\n--4F1234ABCD."), cleanup.single().text());
    }

    // ---- DSN NOTIFY ----

    @Test
    void notifyDecidesWhoIsInTheSendersReport() throws Exception {
        bounce.notify(failure(config(), "alice@example.org",
                rejected("default@example.net"),
                rejected("never@example.net", "NEVER"),
                rejected("success@example.net", "SUCCESS"),
                rejected("failure@example.net", "SUCCESS", "FAILURE"),
                rejected("delay@example.net", "DELAY")));
        List<Map<String, String>> groups = dsn(parts(parse(cleanup.single())).get(1));
        assertEquals(List.of("rfc822; default@example.net", "rfc822; failure@example.net"),
                groups.subList(1, groups.size()).stream().map(g -> g.get("Final-Recipient")).toList());
    }

    @Test
    void noReportWhenNoRecipientAskedForOne() throws Exception {
        Optional<String> id = bounce.notify(failure(config(), "alice@example.org",
                rejected("never@example.net", "NEVER"), rejected("delay@example.net", "DELAY")));
        assertEquals(Optional.empty(), id);
        assertEquals(List.of(), cleanup.messages());
        assertEquals(List.of(), log.lines());
    }

    // ---- notify_classes copies ----

    @Test
    void bounceClassSendsThePostmasterAHeadersOnlyCopyWithEveryRecipient() throws Exception {
        Optional<String> id = bounce.notify(failure(config("notify_classes", "bounce, resource"), "alice@example.org",
                rejected("bob@example.net"), rejected("never@example.net", "NEVER")));

        List<FakeCleanup.Message> sent = cleanup.committed();
        assertEquals(2, sent.size());
        assertEquals(Optional.of(sent.get(0).queueId()), id);
        FakeCleanup.Message copy = sent.get(1);
        assertEquals("double-bounce@mx.example.com", copy.envelope().sender());
        assertEquals("bounce-admin", copy.envelope().recipients().get(0).address());
        Message report = parse(copy);
        assertEquals("Postmaster Copy: Undelivered Mail", report.getSubject());
        assertEquals("auto-generated", header(report, "Auto-Submitted"));
        List<Entity> parts = parts(report);
        assertFalse(text(parts.get(0)).contains("I'm sorry"), "no boilerplate in a postmaster copy");
        assertEquals(2, dsn(parts.get(1)).size() - 1);
        assertEquals("text/rfc822-headers", parts.get(2).getMimeType());
        assertFalse(text(parts.get(2)).contains("Body line 1"));
        assertEquals(List.of("4F1234ABCD: sender non-delivery notification: " + sent.get(0).queueId(),
                "4F1234ABCD: postmaster non-delivery notification: " + copy.queueId()), log.lines(Level.INFO));
    }

    @Test
    void thePostmasterCopyGoesEvenWhenTheSenderAskedForNothing() throws Exception {
        Optional<String> id = bounce.notify(failure(config("notify_classes", "bounce"), "alice@example.org",
                rejected("never@example.net", "NEVER")));
        assertEquals(Optional.empty(), id);
        assertEquals("bounce-admin", cleanup.single().envelope().recipients().get(0).address());
    }

    @Test
    void aFailedPostmasterCopyIsOnlyLogged() throws Exception {
        Cleanup failSecond = new Cleanup() {
            private int opens;

            @Override
            public Stream open(Submission envelope) throws IOException {
                if (++opens == 2) {
                    throw new IOException("queue file create error: No space left on device");
                }
                return cleanup.open(envelope);
            }
        };
        BounceService service = new BounceService(failSecond, log, Clock.fixed(NOW, ZoneId.of("UTC")));
        Optional<String> id = service.notify(failure(config("notify_classes", "bounce"), "alice@example.org",
                rejected("bob@example.net")));
        assertTrue(id.isPresent());
        assertEquals(List.of("4F1234ABCD: postmaster notice failed while bouncing to alice@example.org: "
                + "queue file create error: No space left on device"), log.lines(Level.WARN));
    }

    // ---- double bounces ----

    @Test
    void aFailedBounceIsDiscardedWithout2bounce() throws Exception {
        Optional<String> id = bounce.notify(failure(config(), "", rejected("alice@example.org")));
        assertEquals(Optional.empty(), id);
        assertEquals(List.of(), cleanup.messages());
        assertEquals(List.of("INFO 4F1234ABCD: undeliverable bounce discarded"), log.lines());
    }

    @Test
    void aFailedBounceGoesToThePostmasterWith2bounce() throws Exception {
        Optional<String> id = bounce.notify(failure(config("notify_classes", "2bounce"), "",
                rejected("alice@example.org", "NEVER")));

        FakeCleanup.Message m = cleanup.single();
        assertEquals(Optional.of(m.queueId()), id);
        assertEquals("double-bounce@mx.example.com", m.envelope().sender());
        assertEquals("2bounce-admin", m.envelope().recipients().get(0).address());
        Message report = parse(m);
        assertEquals("Postmaster Copy: Undelivered Mail", report.getSubject());
        assertEquals("2bounce-admin", header(report, "To"));
        List<Entity> parts = parts(report);
        assertEquals("rfc822; MAILER-DAEMON", dsn(parts.get(1)).get(0).get("X-Postfix-Sender"));
        assertEquals("<MAILER-DAEMON>", header((Message) parts.get(2).getBody(), "Return-Path"));
        assertEquals(List.of("INFO 4F1234ABCD: postmaster non-delivery notification: " + m.queueId()), log.lines());
    }

    @Test
    void mailFromTheDoubleBounceSenderIsNeverReported() throws Exception {
        for (String sender : List.of("double-bounce@mx.example.com", "Double-Bounce")) {
            assertEquals(Optional.empty(), bounce.notify(failure(config("notify_classes", "2bounce, bounce"), sender,
                    rejected("postmaster@example.org"))));
        }
        assertEquals(List.of(), cleanup.messages());
        assertEquals(List.of("4F1234ABCD: undeliverable postmaster notification discarded",
                "4F1234ABCD: undeliverable postmaster notification discarded"), log.lines(Level.WARN));
    }

    // ---- delay and success ----

    @Test
    void delayWarningWithHeadersOnlyAndADelayCopy() throws Exception {
        RecipientStatus deferred = new RecipientStatus("bob@example.net", Optional.empty(), List.of(), "4.4.1",
                "connect to mx.example.net[192.0.2.25]:25: Connection timed out", Optional.empty(), false);
        Optional<String> id = bounce.notify(notice(Kind.DELAY, config("notify_classes", "delay"), "alice@example.org",
                Map.of(), original(ORIGINAL), deferred, status("failonly@example.net", "4.4.1", "x", "FAILURE")));

        List<FakeCleanup.Message> sent = cleanup.committed();
        assertEquals(2, sent.size());
        assertEquals(Optional.of(sent.get(0).queueId()), id);
        Message report = parse(sent.get(0));
        assertEquals("Delayed Mail (still being retried)", report.getSubject());
        List<Entity> parts = parts(report);
        String human = text(parts.get(0));
        assertTrue(human.contains("# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #"), human);
        assertTrue(human.contains("Your message could not be delivered for more than 4 hour(s).\r\n"
                + "It will be retried until it is 5 day(s) old.\r\n"), human);
        List<Map<String, String>> groups = dsn(parts.get(1));
        assertEquals(2, groups.size());
        assertEquals("delayed", groups.get(1).get("Action"));
        assertEquals("4.4.1", groups.get(1).get("Status"));
        assertEquals("Sat,  7 Nov 2026 04:05:06 +0000 (UTC)", groups.get(1).get("Will-Retry-Until"));
        assertEquals("text/rfc822-headers", parts.get(2).getMimeType());
        assertEquals("Undelivered Message Headers", header(parts.get(2), "Content-Description"));

        assertEquals("delay-admin", sent.get(1).envelope().recipients().get(0).address());
        assertEquals("Postmaster Warning: Delayed Mail", parse(sent.get(1)).getSubject());
        assertEquals(List.of("4F1234ABCD: sender delay notification: " + sent.get(0).queueId(),
                "4F1234ABCD: postmaster delay notification: " + sent.get(1).queueId()), log.lines(Level.INFO));
    }

    @Test
    void successOnlyForNotifySuccessDeliveredOrRelayed() throws Exception {
        RecipientStatus relayed = new RecipientStatus("r@example.net", Optional.of("rfc822;r@example.net"),
                List.of("SUCCESS"), "2.0.0", "250 2.0.0 Ok: queued as 123", Optional.of("mx.example.net[192.0.2.25]:25"),
                true);
        RecipientStatus delivered = status("d@example.net", "2.0.0", "delivered to maildir", "SUCCESS", "FAILURE");
        RecipientStatus silent = status("s@example.net", "2.0.0", "delivered to maildir");
        Optional<String> id = bounce.notify(notice(Kind.SUCCESS, config("notify_classes", "bounce, delay"),
                "alice@example.org", Map.of(), original(ORIGINAL), relayed, delivered, silent));

        FakeCleanup.Message m = cleanup.single();
        assertEquals(Optional.of(m.queueId()), id);
        Message report = parse(m);
        assertEquals("Successful Mail Delivery Report", report.getSubject());
        List<Entity> parts = parts(report);
        assertTrue(text(parts.get(0)).contains("Your message was successfully delivered to the destination(s)"));
        List<Map<String, String>> groups = dsn(parts.get(1));
        assertEquals(List.of("relayed", "delivered"), groups.subList(1, 3).stream().map(g -> g.get("Action")).toList());
        assertEquals("text/rfc822-headers", parts.get(2).getMimeType());
        assertEquals("Message Headers", header(parts.get(2), "Content-Description"));
        assertEquals(List.of("INFO 4F1234ABCD: sender delivery status notification: " + m.queueId()), log.lines());
    }

    @Test
    void noSuccessReportWithoutNotifySuccess() throws Exception {
        assertEquals(Optional.empty(), bounce.notify(notice(Kind.SUCCESS, config(), "alice@example.org", Map.of(),
                original(ORIGINAL), status("s@example.net", "2.0.0", "delivered"))));
        assertEquals(List.of(), cleanup.messages());
    }

    // ---- errors ----

    @Test
    void aCleanupErrorPropagatesAndNothingIsLeftOpen() {
        cleanup.failCommit(new IOException("fsync failed"));
        IOException e = assertThrows(IOException.class,
                () -> bounce.notify(failure(config(), "alice@example.org", rejected("bob@example.net"))));
        assertEquals("fsync failed", e.getMessage());
        assertTrue(cleanup.committed().isEmpty());
        assertTrue(log.lines(Level.INFO).isEmpty());
    }

    @Test
    void aRejectionBecomesAnIOExceptionWithTheReply() {
        cleanup.reject(Reply.reject(550, "5.7.1", "Message content rejected"));
        IOException e = assertThrows(IOException.class,
                () -> bounce.notify(failure(config(), "alice@example.org", rejected("bob@example.net"))));
        assertTrue(e.getMessage().contains("550 5.7.1 Message content rejected"), e.getMessage());
    }

    @Test
    void aWriteErrorAbortsTheReport() {
        cleanup.failWrite(100, new IOException("disk full"));
        assertThrows(IOException.class,
                () -> bounce.notify(failure(config(), "alice@example.org", rejected("bob@example.net"))));
        assertEquals(FakeCleanup.State.ABORTED, cleanup.single().state());
    }

    // ---- real defaults ----

    @Test
    void worksWithTheBuiltInDefaults() throws Exception {
        Path etc = Files.createDirectories(tmp.resolve("etc"));
        Files.writeString(etc.resolve("main.cf"), "myhostname = gw.example.com\n");
        Files.writeString(etc.resolve("master.cf"), "");
        ConfigSnapshot real = ConfigLoader.load(etc, tmp.resolve("var"));
        bounce.notify(failure(real, "alice@example.org", rejected("bob@example.net")));

        FakeCleanup.Message m = cleanup.single(); // default notify_classes: no bounce copy
        Map<String, String> perMessage = dsn(parts(parse(m)).get(1)).get(0);
        assertEquals("dns; gw.example.com", perMessage.get("Reporting-MTA"));
        assertEquals("4F1234ABCD", perMessage.get("X-Estafeta-Queue-ID"));
        assertEquals("8BITMIME", m.envelope().mailParameters().get("BODY"));
    }
}
