package org.estafeta.cleanup.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.cleanup.Cleanup;
import org.estafeta.cleanup.Submission;
import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigSource;
import org.estafeta.queue.FileQueueStore;
import org.estafeta.queue.Envelope;
import org.estafeta.queue.QueueName;
import org.estafeta.queue.QueueStore;
import org.estafeta.tables.TableService;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * header_checks, mime_header_checks and body_checks as cleanup applies them. The tables here are a minimal
 * pattern table ({@code /re/flags action} lines, first match wins) so that this bundle's tests need no table
 * bundle; the tutorial's files through the real regexp table and a real Postfix are in the launcher's
 * ContentChecksIT.
 */
class ContentChecksTest {
    @TempDir
    Path tmp;

    private final Map<String, List<Map.Entry<Pattern, String>>> tables = new LinkedHashMap<>();
    private FileQueueStore store;

    private void table(String name, String... lines) {
        List<Map.Entry<Pattern, String>> rules = new ArrayList<>();
        for (String l : lines) {
            if (l.isBlank() || l.startsWith("#")) {
                continue;
            }
            int end = l.lastIndexOf('/');
            String flags = l.substring(end + 1, l.indexOf(' ', end));
            // as regexp_table(5): "." also matches the newline of a folded header, and matching is
            // case-insensitive unless the i flag toggles it off
            rules.add(Map.entry(Pattern.compile(l.substring(1, end),
                    Pattern.DOTALL | (flags.contains("i") ? 0 : Pattern.CASE_INSENSITIVE)),
                    l.substring(l.indexOf(' ', end) + 1).trim()));
        }
        tables.put(name, rules);
    }

    private final TableService service = new TableService() {
        @Override
        public LookupTable open(String spec) throws TableOpenException {
            String name = spec.substring(spec.indexOf(':') + 1);
            if (name.equals("down")) {
                return key -> LookupResult.temporaryFailure("server down");
            }
            List<Map.Entry<Pattern, String>> rules = tables.get(name);
            if (rules == null) {
                throw new TableOpenException("open " + name + ": No such file or directory");
            }
            return PatternTable.of(rules);
        }

        @Override
        public Set<String> types() {
            return Set.of("test");
        }

        @Override
        public List<String> problems(ConfigSnapshot snapshot) {
            return List.of();
        }
    };

    private Cleanup cleanup(String mainCf) throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("etc"));
        Files.writeString(conf.resolve("main.cf"), "myhostname = mx.example.com\n" + mainCf);
        ConfigSnapshot snap = ConfigLoader.load(conf, tmp.resolve("var"));
        store = new FileQueueStore(tmp.resolve("q"));
        CleanupService c = new CleanupService(store, CleanupFixture.fixed(snap));
        c.tables = service;
        return c;
    }

    private static Submission submission() {
        return new Submission("a@example.org", Map.of(), List.of(new Submission.Recipient("b@example.net", List.of(),
                Optional.empty())), new ClientInfo("192.0.2.7", "client.example.org", "helo.example.org", false,
                        Optional.empty()), "ESMTP", Submission.Actions.NONE);
    }

    /** Sends {@code message} in small pieces (the checks must not depend on how the bytes arrive). */
    private static String send(Cleanup c, String message) throws Exception {
        Cleanup.Stream s = c.open(submission());
        byte[] b = message.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < b.length; i += 7) {
            s.write(b, i, Math.min(7, b.length - i));
        }
        return s.commit();
    }

    private String queued(QueueName q, String id) throws IOException {
        try (InputStream in = store.read(q, id).content()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static List<String> tutorial(String file) throws IOException {
        try (InputStream in = ContentChecksTest.class.getResourceAsStream("/tutorial/" + file)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
        }
    }

    @Test
    void theTutorialsHeaderChecksRejectWhatTheyShould() throws Exception {
        table("header_checks", tutorial("header_checks").toArray(String[]::new));
        Cleanup c = cleanup("header_checks = test:header_checks\n");
        Cleanup.Rejected r = assertThrows(Cleanup.Rejected.class,
                () -> send(c, "Subject: new photos from my party!\r\n\r\nhi\r\n"));
        assertEquals("550 5.7.1 message content rejected", r.reply().toString());
        // the SirCam rule /^date:.*$/i is case-sensitive (i toggles regexp_table's default): only "date:" matches
        assertThrows(Cleanup.Rejected.class, () -> send(c, "date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nhi\r\n"));
        // the ID first: the list must be taken after the message is queued
        String dated = send(c, "Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nhi\r\n");
        assertTrue(store.list(QueueName.INCOMING).contains(dated));
        assertThrows(Cleanup.Rejected.class, () -> send(c, "X-Unsent: 1\r\n\r\nhi\r\n"));
        assertThrows(Cleanup.Rejected.class, () -> send(c, "From: \"x\" <_bad@example.org>\r\n\r\nhi\r\n"));
        String id = send(c, "Subject: new photos from my holiday\r\n\r\nhi\r\n");
        assertTrue(queued(QueueName.INCOMING, id).contains("Subject: new photos from my holiday"));
        assertEquals(List.of(), store.list(QueueName.HOLD));
    }

    @Test
    void theTutorialsBodyChecksRejectWithinTheSizeLimitOnly() throws Exception {
        table("body_checks", tutorial("body_checks").toArray(String[]::new));
        Cleanup c = cleanup("body_checks = test:body_checks\nbody_checks_size_limit = 1000\n");
        assertThrows(Cleanup.Rejected.class, () -> send(c, "Subject: x\r\n\r\nline one\r\nGet a FREE MEMBERSHIP now\r\n"));
        assertThrows(Cleanup.Rejected.class, () -> send(c, "Subject: x\r\n\r\nno final line end bizinfo"));
        String headerOnly = send(c, "Subject: FREE MEMBERSHIP\r\n\r\nclean\r\n");
        assertTrue(queued(QueueName.INCOMING, headerOnly).contains("clean"), "body_checks do not see headers");
        String late = send(c, "Subject: x\r\n\r\n" + "filler line of text\r\n".repeat(100) + "FREE MEMBERSHIP\r\n");
        assertTrue(queued(QueueName.INCOMING, late).endsWith("FREE MEMBERSHIP\r\n"),
                "text past body_checks_size_limit is not inspected, as in Postfix");
    }

    @Test
    void actionsWarnHoldDiscardIgnoreReplacePrependAndRejectText() throws Exception {
        table("h",
                "/^Subject: hold me/ HOLD suspicious",
                "/^Subject: drop me/ DISCARD not wanted",
                "/^X-Internal:/ IGNORE",
                "/^Received: from secret/ REPLACE Received: from [hidden]",
                "/^Subject: tag me/ PREPEND X-Tagged: yes",
                "/^Subject: warn me/ WARN looks odd",
                "/^Subject: go away/ REJECT 5.7.0 go away now",
                "/^Subject: later/ 450 4.7.1 try later");
        Cleanup c = cleanup("header_checks = test:h\n");
        String held = send(c, "Subject: hold me\r\n\r\nx\r\n");
        assertEquals(List.of(held), store.list(QueueName.HOLD));
        String dropped = send(c, "Subject: drop me\r\n\r\nx\r\n");
        assertFalse(store.list(QueueName.INCOMING).contains(dropped), "discarded: acknowledged, never queued");
        String edited = send(c, "X-Internal: yes\r\n  folded\r\nReceived: from secret.example\r\nSubject: tag me\r\n\r\nx\r\n");
        String text = queued(QueueName.INCOMING, edited);
        assertFalse(text.contains("X-Internal") || text.contains("folded"), text);
        assertTrue(text.contains("\r\nReceived: from [hidden]\r\nX-Tagged: yes\r\nSubject: tag me\r\n"), text);
        String warned = send(c, "Subject: warn me\r\n\r\nx\r\n");
        assertTrue(store.list(QueueName.INCOMING).contains(warned));
        assertEquals("550 5.7.0 go away now",
                assertThrows(Cleanup.Rejected.class, () -> send(c, "Subject: go away\r\n\r\nx\r\n")).reply().toString());
        assertEquals("450 4.7.1 try later",
                assertThrows(Cleanup.Rejected.class, () -> send(c, "Subject: later\r\n\r\nx\r\n")).reply().toString());
    }

    @Test
    void multiLineHeadersAreMatchedAsOneStringAndMimePartHeadersByMimeHeaderChecks() throws Exception {
        table("h", "/^Subject: one\\n two/ REJECT folded match",
                "/^Content-Disposition:.*filename=\"?readme\\.exe/ REJECT Nimda");
        Cleanup c = cleanup("header_checks = test:h\n");
        assertEquals("550 5.7.1 folded match",
                assertThrows(Cleanup.Rejected.class, () -> send(c, "Subject: one\r\n two\r\n\r\nx\r\n")).reply().toString());
        String mime = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\npreamble\r\n--b1\r\n"
                + "Content-Type: text/plain\r\n\r\nhello\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Disposition: attachment;\r\n\tfilename=\"readme.exe\"\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b1--\r\n";
        assertEquals("550 5.7.1 Nimda", assertThrows(Cleanup.Rejected.class, () -> send(c, mime)).reply().toString(),
                "mime_header_checks (default $header_checks) sees the attachment's folded header");
        String clean = send(c, mime.replace("readme.exe", "report.pdf"));
        assertTrue(queued(QueueName.INCOMING, clean).contains("filename=\"report.pdf\""));
    }

    @Test
    void nestedHeaderChecksSeeTheHeadersOfAnAttachedMessage() throws Exception {
        table("nested", "/^Subject: forwarded virus/ REJECT nested match");
        table("top", "/^Subject: forwarded virus/ REJECT top-level match");
        Cleanup c = cleanup("header_checks = test:top\nnested_header_checks = test:nested\n");
        String mime = "MIME-Version: 1.0\r\nSubject: fwd\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                + "--b1\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b1\r\n"
                + "Content-Type: message/rfc822\r\n\r\n"
                + "From: someone@example.org\r\nSubject: forwarded virus\r\n\r\nnested body\r\n--b1--\r\n";
        assertEquals("550 5.7.1 nested match", assertThrows(Cleanup.Rejected.class, () -> send(c, mime)).reply()
                .toString(), "the attached message's Subject goes to nested_header_checks, not header_checks");
        String plain = "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
                + "Content-Type: text/plain\r\n\r\nSubject: forwarded virus\r\n--b1--\r\n";
        String id = send(c, plain);
        assertTrue(queued(QueueName.INCOMING, id).contains("Subject: forwarded virus"),
                "body text of a text part is no header");
    }

    @Test
    void aCheckTableThatFailsRefusesTheMessageTemporarily() throws Exception {
        Cleanup c = cleanup("body_checks = test:down\n");
        assertEquals("451 4.3.0 Error: queue file write error",
                assertThrows(Cleanup.Rejected.class, () -> send(c, "Subject: x\r\n\r\nbody\r\n")).reply().toString());
        Cleanup missing = cleanup("header_checks = test:nonexistent\n");
        IOException e = assertThrows(IOException.class, () -> missing.open(submission()));
        assertTrue(e.getMessage().startsWith("header_checks: open nonexistent"), e.getMessage());
        assertEquals(List.of(), store.list(QueueName.INCOMING));
    }

    private Envelope envelope(String id) throws IOException {
        return store.read(QueueName.INCOMING, id).envelope();
    }

    @Test
    void redirectFilterAndBccGoToTheExtractedSegment() throws Exception {
        table("h", "/^Subject: redirect me/ REDIRECT boss@example.com",
                "/^Subject: filter me/ FILTER scan:[127.0.0.1]:10025",
                "/^Subject: copy me/ BCC audit@example.com",
                "/^X-Copy-Too:/ BCC second@example.com",
                "/^X-Filter-Again:/ FILTER other:[127.0.0.2]:10026");
        table("b", "/^redirected body/ REJECT too late: the REDIRECT ended the checks",
                "/^body copy/ BCC audit@example.com");
        Cleanup c = cleanup("header_checks = test:h\nbody_checks = test:b\n");

        String r = send(c, "Subject: redirect me\r\n\r\nredirected body\r\n");
        QueueStore.QueuedMessage m = store.read(QueueName.INCOMING, r);
        assertEquals(new Envelope.Extracted(List.of(new Envelope.Action("redirect", "boss@example.com")), List.of()),
                m.extracted());
        assertEquals(List.of("b@example.net"), m.envelope().recipients().stream().map(Envelope.Recipient::address)
                .toList(), "the original recipients stay in the file; the queue manager delivers to the redirect");

        String f = send(c, "Subject: filter me\r\nX-Filter-Again: 1\r\n\r\nx\r\n");
        assertEquals(List.of(new Envelope.Action("filter", "other:[127.0.0.2]:10026")),
                store.read(QueueName.INCOMING, f).extracted().actions(), "the last FILTER wins");

        String b = send(c, "Subject: copy me\r\nX-Copy-Too: 1\r\n\r\nbody copy\r\n");
        Envelope.Extracted x = store.read(QueueName.INCOMING, b).extracted();
        assertEquals(List.of(), x.actions());
        assertEquals(List.of(new Envelope.Recipient("audit@example.com", List.of("NEVER"), Optional.empty(),
                Envelope.Status.PENDING), new Envelope.Recipient("second@example.com", List.of("NEVER"),
                        Optional.empty(), Envelope.Status.PENDING)), x.recipients(),
                "BCC: NOTIFY=NEVER, one recipient per address even when named twice");
        assertEquals(3, envelope(b).recipients().size());

        String plain = send(c, "Subject: nothing\r\n\r\nx\r\n");
        assertEquals(Envelope.Extracted.NONE, store.read(QueueName.INCOMING, plain).extracted());
    }

    @Test
    void badArgumentsArePostfixsWarningsAndNoAction() throws Exception {
        table("h", "/^Subject: a/ REDIRECT nobody", "/^Subject: b/ FILTER nocolon", "/^Subject: c/ BCC nobody",
                "/^Subject: d/ FILTER");
        Cleanup c = cleanup("header_checks = test:h\n");
        for (String subject : List.of("a", "b", "c", "d")) {
            String id = send(c, "Subject: " + subject + "\r\n\r\nx\r\n");
            assertEquals(Envelope.Extracted.NONE, store.read(QueueName.INCOMING, id).extracted(), subject);
        }
    }

    @Test
    void passEndsTheChecks() throws Exception {
        table("h", "/^Subject: trusted/ PASS", "/^X-Bad:/ REJECT bad");
        Cleanup c = cleanup("header_checks = test:h\n");
        send(c, "Subject: trusted\r\nX-Bad: 1\r\n\r\nx\r\n");
        assertThrows(Cleanup.Rejected.class, () -> send(c, "X-Bad: 1\r\nSubject: trusted\r\n\r\nx\r\n"));
    }

    @Test
    void bccAddressesAreRewrittenAsRecipientsUnlessNoAddressMappings() throws Exception {
        table("h", "/^Subject: copy/ BCC audit@example.com");
        table("virtual", "/^audit@example\\.com$/ auditors@example.net");
        Cleanup c = cleanup("header_checks = test:h\nvirtual_alias_maps = test:virtual\n");
        String id = send(c, "Subject: copy\r\n\r\nx\r\n");
        assertEquals(List.of("auditors@example.net"), store.read(QueueName.INCOMING, id).extracted().recipients()
                .stream().map(Envelope.Recipient::address).toList());

        Cleanup.Stream s = c.open(submission(), service("receive_override_options = no_address_mappings\n"
                + "header_checks = test:h\nvirtual_alias_maps = test:virtual\n"));
        byte[] b = "Subject: copy\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII);
        s.write(b, 0, b.length);
        String raw = s.commit();
        assertEquals(List.of("audit@example.com"), store.read(QueueName.INCOMING, raw).extracted().recipients()
                .stream().map(Envelope.Recipient::address).toList());
    }

    /** A service's own snapshot (as ConfigSnapshot.forService gives one with its -o overrides). */
    private ConfigSnapshot service(String mainCf) throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("service-etc"));
        Files.writeString(conf.resolve("main.cf"), "myhostname = mx.example.com\n" + mainCf);
        return ConfigLoader.load(conf, tmp.resolve("var"));
    }

    @Test
    void noHeaderBodyChecksOfTheReceivingServiceSkipsTheChecks() throws Exception {
        table("h", "/^Subject: bad/ REJECT bad", "/^Subject: bad/ REDIRECT boss@example.com");
        Cleanup c = cleanup("header_checks = test:h\n");
        assertThrows(Cleanup.Rejected.class, () -> send(c, "Subject: bad\r\n\r\nx\r\n"));
        Cleanup.Stream s = c.open(submission(), service(
                "receive_override_options = no_unknown_recipient_checks,no_header_body_checks\n"
                        + "header_checks = test:h\n"));
        byte[] b = "Subject: bad\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII);
        s.write(b, 0, b.length);
        String id = s.commit();
        assertTrue(queued(QueueName.INCOMING, id).contains("Subject: bad"));

        IOException e = assertThrows(IOException.class,
                () -> c.open(submission(), service("receive_override_options = no_such_thing\n")));
        assertEquals("unknown receive_override_options value \"no_such_thing\" in \"no_such_thing\"", e.getMessage());
    }
}
