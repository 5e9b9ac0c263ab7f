package org.estafeta.cleanup.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import org.estafeta.api.filter.EventVerdict;
import org.estafeta.api.filter.FilterVerdict;
import org.estafeta.api.filter.HeaderField;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.message.Envelope;
import org.estafeta.api.message.Reply;
import org.estafeta.api.table.LookupResult;
import org.estafeta.api.table.LookupTable;
import org.estafeta.api.table.TableOpenException;
import org.estafeta.config.ConfigLoader;
import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigWarning;
import org.estafeta.tables.TableService;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * header_checks and body_checks as the first filter of the chain: each action as the event verdict the chain acts
 * on, the bytes of edited headers and body chunks, MIME part and attached-message headers across chunks, and the
 * log lines. The check tables are opened by {@link ContentChecks} from a real main.cf; {@code pattern:NAME} is a
 * minimal regexp_table ({@code /re/flags action}, first match wins; this bundle's tests have no regexp table bundle),
 * {@code fail:NAME} the fixture's table that is always down.
 */
class HeaderBodyChecksTest {
    @TempDir
    Path tmp;

    private CleanupFixture fixture;
    private final Map<String, List<Map.Entry<Pattern, String>>> patterns = new HashMap<>();
    /** The lines the checks logged: {@code VERB: SUBJECT[: DETAIL]} and {@code warning: TEXT}. */
    private final List<String> lines = new ArrayList<>();
    private final SessionChain.ActionLog log = new SessionChain.ActionLog() {
        @Override
        public void action(String verb, String subject, String detail) {
            lines.add(verb + ": " + subject + (detail.isEmpty() ? "" : ": " + detail));
        }

        @Override
        public void warn(String text) {
            lines.add("warning: " + text);
        }
    };

    private static final Envelope ENVELOPE = new Envelope("4XyZ1", "a@example.org", List.of("b@example.net"),
            new ClientInfo("192.0.2.7", "client.example.org", "helo.example.org", false, Optional.empty()));

    @BeforeEach
    void fixture() throws Exception {
        fixture = new CleanupFixture(tmp);
    }

    /** A regexp_table-like table named {@code name}: lines {@code /re/flags action}. */
    private void table(String name, String... rules) {
        List<Map.Entry<Pattern, String>> list = new ArrayList<>();
        for (String r : rules) {
            int end = r.lastIndexOf('/');
            int space = r.indexOf(' ', end);
            String flags = r.substring(end + 1, space);
            // as regexp_table(5): case-insensitive unless the i flag toggles it; "." matches a folded header's \n
            list.add(Map.entry(Pattern.compile(r.substring(1, end),
                    Pattern.DOTALL | (flags.contains("i") ? 0 : Pattern.CASE_INSENSITIVE)), r.substring(space + 1)));
        }
        patterns.put(name, list);
    }

    private final TableService tables = new TableService() {
        @Override
        public LookupTable open(String spec) throws TableOpenException {
            if (!spec.startsWith("pattern:")) {
                return fixture.tables.open(spec);
            }
            List<Map.Entry<Pattern, String>> rules = patterns.get(spec.substring(8));
            if (rules == null) {
                throw new TableOpenException("open " + spec + ": No such file or directory");
            }
            return PatternTable.of(rules);
        }

        @Override
        public Set<String> types() {
            return Set.of("pattern", "fail");
        }

        @Override
        public List<String> problems(ConfigSnapshot snapshot) {
            return List.of();
        }
    };

    /** The checks configured by {@code mainCf}, as cleanup opens them for one message. */
    private HeaderBodyChecks checks(String mainCf) throws Exception {
        return checks(mainCf, false);
    }

    private HeaderBodyChecks checks(String mainCf, boolean alreadyHeld) throws Exception {
        Path conf = Files.createDirectories(tmp.resolve("etc"));
        Files.writeString(conf.resolve("main.cf"), "myhostname = mx.example.com\n" + mainCf);
        ConfigSnapshot snap = ConfigLoader.load(conf, tmp.resolve("var"));
        for (ConfigWarning w : snap.warnings()) {
            if (w.toString().contains("unused parameter")) {
                throw new AssertionError("main.cf of the test: " + w);
            }
        }
        return new HeaderBodyChecks(ContentChecks.open(snap, tables).orElseThrow(), log, alreadyHeld);
    }

    private static HeaderField header(String raw) {
        int colon = raw.indexOf(':');
        return new HeaderField(raw.substring(0, colon), raw.substring(colon + 1));
    }

    private static ByteBuffer chunk(String text) {
        return ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)).asReadOnlyBuffer();
    }

    /** The bytes of a Replace verdict as text (fails for any other verdict). */
    private static String replaced(EventVerdict v) {
        return new String(assertInstanceOf(EventVerdict.Replace.class, v).bytes(), StandardCharsets.UTF_8);
    }

    private static final EventVerdict CONTINUE = EventVerdict.CONTINUE;

    // ------------------------------------------------------------------------------------------ header actions

    @Test
    void rejectAnswersPostfixsDefaultTextAndEndsTheChecks() throws Exception {
        table("h", "/^Subject: spam/ REJECT", "/^X-Later:/ REJECT later", "/^Subject: own/ REJECT 5.7.0 go away now");
        HeaderBodyChecks c = checks("header_checks = pattern:h\nbody_checks = pattern:h\n");
        assertEquals(CONTINUE, c.header(header("From: a@example.org")));
        Reply reply = new Reply(550, "5.7.1", "message content rejected");
        assertEquals(new EventVerdict.Reject(reply), c.header(header("Subject: spam")));
        assertEquals(List.of("reject: header Subject: spam: 5.7.1 message content rejected"), lines);
        assertEquals(CONTINUE, c.header(header("X-Later: 1")), "nothing is checked after a REJECT");
        assertEquals(CONTINUE, c.body(chunk("X-Later: in the body\r\n")));
        assertEquals(new FilterVerdict.Reject(reply), c.endOfMessage(ENVELOPE, null));
        assertEquals(1, lines.size(), lines.toString());

        HeaderBodyChecks own = checks("header_checks = pattern:h\n");
        assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.0", "go away now")),
                own.header(header("Subject: own words")));
    }

    @Test
    void numericActionsRejectOrDeferByTheirCode() throws Exception {
        table("h", "/^Subject: later/ 450 4.7.1 try later", "/^Subject: never/ 554 go away",
                "/^Subject: mismatched/ 451 5.7.1 odd");
        HeaderBodyChecks later = checks("header_checks = pattern:h\n");
        assertEquals(new EventVerdict.Defer(new Reply(450, "4.7.1", "try later")),
                later.header(header("Subject: later")));
        assertEquals(List.of("reject: header Subject: later: 4.7.1 try later"), lines,
                "Postfix logs a 4xx action as reject: with its 4.x.x status");
        assertEquals(new FilterVerdict.Defer(new Reply(450, "4.7.1", "try later")), later.endOfMessage(ENVELOPE, null));
        assertEquals(new EventVerdict.Reject(new Reply(554, "5.7.1", "go away")),
                checks("header_checks = pattern:h\n").header(header("Subject: never")));
        assertEquals(new EventVerdict.Defer(new Reply(451, "4.7.1", "5.7.1 odd")),
                checks("header_checks = pattern:h\n").header(header("Subject: mismatched")),
                "a status of the other class is text");
    }

    @Test
    void ignoreReplaceAndPrependAnswerTheHeadersNewBytes() throws Exception {
        table("h", "/^X-Internal:/ IGNORE", "/^Received: from secret/ REPLACE Received: from [hidden]",
                "/^Subject: tag\\n me/ PREPEND X-Tagged: yes", "/^Subject: warn/ WARN looks odd",
                "/^Subject: info/ INFO noted", "/^Subject: dunno/ DUNNO", "/^Subject: ok/ OK");
        HeaderBodyChecks c = checks("header_checks = pattern:h\n");
        assertEquals("", replaced(c.header(header("X-Internal: yes\r\n  folded"))));
        assertEquals("Received: from [hidden]\r\n", replaced(c.header(header("Received: from secret.example"))));
        assertEquals("X-Tagged: yes\r\nSubject: tag\r\n me\r\n", replaced(c.header(header("Subject: tag\r\n me"))),
                "the folded header is matched as one text with \\n and kept below the new line with its CRLF");
        assertEquals(CONTINUE, c.header(header("Subject: warn me")));
        assertEquals(CONTINUE, c.header(header("Subject: info")));
        assertEquals(CONTINUE, c.header(header("Subject: dunno")));
        assertEquals(CONTINUE, c.header(header("Subject: ok")));
        assertEquals(List.of("replace: header Received: from secret.example: Received: from [hidden]",
                "prepend: header Subject: tag  me: X-Tagged: yes", "warning: header Subject: warn me: looks odd",
                "info: header Subject: info: noted"), lines, "IGNORE is not logged, as in Postfix");
        assertEquals(FilterVerdict.accept(), c.endOfMessage(ENVELOPE, null));
    }

    @Test
    void theLoggedTextIsOneLineOfAtMost200Characters() throws Exception {
        table("h", "/^Subject: long/ WARN long");
        HeaderBodyChecks c = checks("header_checks = pattern:h\n");
        String value = " long\r\n\t" + "y".repeat(300);
        c.header(new HeaderField("Subject", value));
        String expected = "warning: header " + ("Subject: long  " + "y".repeat(300)).substring(0, 200) + ": long";
        assertEquals(List.of(expected), lines);
    }

    @Test
    void passAcceptsAndEndsTheChecks() throws Exception {
        table("h", "/^Subject: trusted/ PASS", "/^X-Bad:/ REJECT bad", "/^X-Copy:/ BCC audit@example.com");
        HeaderBodyChecks c = checks("header_checks = pattern:h\n");
        assertEquals(EventVerdict.ACCEPT, c.header(header("Subject: trusted")));
        assertEquals(List.of("pass: header Subject: trusted"), lines);
        assertEquals(CONTINUE, c.header(header("X-Bad: 1")));
        assertEquals(FilterVerdict.accept(), c.endOfMessage(ENVELOPE, null));

        // a BCC before the PASS needs the end of the message, which the chain does not ask after an Accept
        HeaderBodyChecks copied = checks("header_checks = pattern:h\n");
        assertEquals(CONTINUE, copied.header(header("X-Copy: 1")));
        assertEquals(CONTINUE, copied.header(header("Subject: trusted")));
        assertEquals(CONTINUE, copied.header(header("X-Bad: 1")), "PASS ended the checks all the same");
        FilterVerdict.Modify m = assertInstanceOf(FilterVerdict.Modify.class, copied.endOfMessage(ENVELOPE, null));
        assertEquals(List.of("audit@example.com"), m.blindCopies());
    }

    @Test
    void redirectFilterAndBccComeBackAtTheEndOfTheMessage() throws Exception {
        table("h", "/^Subject: copy me/ BCC audit@example.com", "/^X-Copy-Too:/ BCC second@example.com",
                "/^X-Filter:/ FILTER scan:[127.0.0.1]:10025", "/^X-Filter-Again:/ FILTER other:[127.0.0.2]:10026",
                "/^X-Redirect:/ REDIRECT boss@example.com", "/^X-Bad:/ REJECT too late");
        table("b", "/^X-Bad/ REJECT too late");
        HeaderBodyChecks c = checks("header_checks = pattern:h\nbody_checks = pattern:b\n");
        for (String h : List.of("Subject: copy me", "X-Filter: 1", "X-Copy-Too: 1", "X-Filter-Again: 1")) {
            assertEquals(CONTINUE, c.header(header(h)), h);
        }
        assertEquals(CONTINUE, c.header(header("X-Redirect: 1")),
                "REDIRECT ends the checks but is no Accept: the chain would not ask for the redirect at the end");
        assertEquals(CONTINUE, c.header(header("X-Bad: 1")), "nothing is checked after a REDIRECT");
        assertEquals(CONTINUE, c.body(chunk("X-Bad body\r\n")));
        assertEquals(new FilterVerdict.Modify(List.of(), List.of(), List.of(), Optional.empty(), List.of(),
                Optional.empty(), Optional.of("boss@example.com"), Optional.of("other:[127.0.0.2]:10026"),
                List.of("audit@example.com", "second@example.com")), c.endOfMessage(ENVELOPE, null));
        assertEquals(List.of("bcc: header Subject: copy me: audit@example.com",
                "filter: header X-Filter: 1: scan:[127.0.0.1]:10025", "bcc: header X-Copy-Too: 1: second@example.com",
                "filter: header X-Filter-Again: 1: other:[127.0.0.2]:10026",
                "redirect: header X-Redirect: 1: boss@example.com"), lines);
    }

    @Test
    void badArgumentsArePostfixsWarningsAndNoAction() throws Exception {
        table("h", "/^Subject: a/ REDIRECT nobody", "/^Subject: b/ FILTER nocolon", "/^Subject: c/ BCC nobody",
                "/^Subject: d/ FILTER", "/^Subject: e/ FROB x");
        table("b", "/^frob/ FROB x");
        HeaderBodyChecks c = checks("header_checks = pattern:h\nbody_checks = pattern:b\n");
        for (String s : List.of("a", "b", "c", "d", "e")) {
            assertEquals(CONTINUE, c.header(header("Subject: " + s)), s);
        }
        assertEquals(CONTINUE, c.body(chunk("frob\r\n")));
        assertEquals(FilterVerdict.accept(), c.endOfMessage(ENVELOPE, null));
        assertEquals(List.of("warning: bad REDIRECT target \"nobody\" in header_checks map -- need user@domain",
                "warning: bad FILTER command nocolon in header_checks -- need transport:destination",
                "warning: bad BCC address \"nobody\" in header_checks map -- need user@domain",
                "warning: missing FILTER command argument in header_checks map",
                "warning: unknown command in header_checks map: FROB",
                "warning: unknown command in body_checks map: FROB"), lines);
    }

    @Test
    void holdIsAnsweredAndLoggedOnceAndNotForAMessageAlreadyOnHold() throws Exception {
        table("h", "/^Subject: hold me/ HOLD suspicious", "/^X-Hold:/ HOLD again");
        HeaderBodyChecks c = checks("header_checks = pattern:h\n");
        assertEquals(new EventVerdict.Hold("suspicious"), c.header(header("Subject: hold me")));
        assertEquals(CONTINUE, c.header(header("X-Hold: 1")));
        assertEquals(List.of("hold: header Subject: hold me: suspicious"), lines);
        assertEquals(FilterVerdict.accept(), c.endOfMessage(ENVELOPE, null));

        lines.clear();
        HeaderBodyChecks held = checks("header_checks = pattern:h\n", true);
        assertEquals(CONTINUE, held.header(header("Subject: hold me")));
        assertEquals(List.of(), lines);
    }

    @Test
    void discardAnswersDiscardAndEndsTheChecks() throws Exception {
        table("h", "/^Subject: drop me/ DISCARD not wanted", "/^X-Bad:/ REJECT bad");
        HeaderBodyChecks c = checks("header_checks = pattern:h\n");
        assertEquals(new EventVerdict.Discard("not wanted"), c.header(header("Subject: drop me")));
        assertEquals(CONTINUE, c.header(header("X-Bad: 1")));
        assertEquals(new FilterVerdict.Discard("not wanted"), c.endOfMessage(ENVELOPE, null));
        assertEquals(List.of("discard: header Subject: drop me: not wanted"), lines);
    }

    @Test
    void aFailingTableDefersWith451() throws Exception {
        Reply failure = new Reply(451, "4.3.0", "Error: queue file write error");
        HeaderBodyChecks body = checks("body_checks = fail:down\n");
        assertEquals(CONTINUE, body.data("4jQueueId1"));
        assertEquals(CONTINUE, body.header(header("Subject: x")));
        assertEquals(new EventVerdict.Defer(failure), body.body(chunk("body\r\n")));
        assertEquals(CONTINUE, body.body(chunk("more\r\n")));
        assertEquals(new FilterVerdict.Defer(failure), body.endOfMessage(ENVELOPE, null));
        // as cleanup logged it before the checks became a filter: the message's queue ID first
        assertEquals(List.of("warning: 4jQueueId1: body_checks map lookup problem: fail:down"), lines);

        lines.clear();
        HeaderBodyChecks header = checks("header_checks = fail:down\n");
        assertEquals(CONTINUE, header.data("4jQueueId2"));
        assertEquals(new EventVerdict.Defer(failure), header.header(header("Subject: x")));
        assertEquals(List.of("warning: 4jQueueId2: header_checks map lookup problem: fail:down"), lines);
    }

    // ------------------------------------------------------------------------------------------ the body

    @Test
    void bodyLineEditsAnswerTheChunksNewBytes() throws Exception {
        table("b", "/^secret: / REPLACE secret: [removed]", "/^tracker/ IGNORE", "/^urgent/ PREPEND X-Note: flagged");
        HeaderBodyChecks c = checks("body_checks = pattern:b\n");
        assertEquals(CONTINUE, c.header(header("Subject: secret: not in the body")), "body_checks see no header");
        assertEquals(CONTINUE, c.body(chunk("plain\r\nlines\r\n")));
        assertEquals("hello\r\nsecret: [removed]\r\nX-Note: flagged\r\nurgent stuff\r\nbye\r\n",
                replaced(c.body(chunk("hello\r\nsecret: 1234\r\ntracker pixel\r\nurgent stuff\r\nbye\r\n"))));
        assertEquals(List.of("replace: body secret: 1234: secret: [removed]", "prepend: body urgent stuff: X-Note: flagged"),
                lines);
        assertEquals(FilterVerdict.accept(), c.endOfMessage(ENVELOPE, null));
    }

    @Test
    void aLineThatBeganInAnEarlierChunkIsCheckedButNotEdited() throws Exception {
        table("b", "/^secret: / REPLACE secret: [removed]", "/bizinfo/ REJECT");
        HeaderBodyChecks c = checks("body_checks = pattern:b\n");
        assertEquals(CONTINUE, c.body(chunk("first\r\nsecret: 12")));
        assertEquals("34\r\nsecret: [removed]\r\n", replaced(c.body(chunk("34\r\nsecret: 5\r\n"))),
                "the end of the earlier line passes unchanged; a whole line of the chunk is still edited");
        assertEquals(List.of("warning: body_checks map: REPLACE not applied to body secret: 1234 -- it began in an "
                + "earlier body chunk, already passed on", "replace: body secret: 5: secret: [removed]"), lines);

        // the last line without a line end is checked at the end of the message
        HeaderBodyChecks last = checks("body_checks = pattern:b\n");
        assertEquals(CONTINUE, last.body(chunk("line one\r\nno final line end bizinfo")));
        assertEquals(new FilterVerdict.Reject(new Reply(550, "5.7.1", "message content rejected")),
                last.endOfMessage(ENVELOPE, null));
    }

    @Test
    void longLinesAreCheckedInPiecesOfTheLineLengthLimit() throws Exception {
        table("b", "/^bizinfo/ REJECT");
        HeaderBodyChecks aligned = checks("body_checks = pattern:b\n");
        assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1", "message content rejected")),
                aligned.body(chunk("x".repeat(HeaderBodyChecks.LINE_LIMIT) + "bizinfo\r\n")),
                "the second piece starts with the text");
        HeaderBodyChecks split = checks("body_checks = pattern:b\n");
        assertEquals(CONTINUE, split.body(chunk("x".repeat(HeaderBodyChecks.LINE_LIMIT - 3) + "bizinfo\r\n")),
                "the text is cut between two pieces");
        HeaderBodyChecks across = checks("body_checks = pattern:b\n");
        assertEquals(CONTINUE, across.body(chunk("x".repeat(1000))));
        assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1", "message content rejected")),
                across.body(chunk("x".repeat(HeaderBodyChecks.LINE_LIMIT - 1000) + "bizinfo\r\n")),
                "pieces count from the line's start, whatever the chunks");
    }

    @Test
    void bodyChecksSizeLimitAppliesToEachMimePart() throws Exception {
        table("b", "/^FREE MEMBERSHIP/ REJECT");
        String filler = "filler line of text\r\n"; // 21 bytes
        String main = "body_checks = pattern:b\nbody_checks_size_limit = 100\n";
        assertEquals(CONTINUE, checks(main).body(chunk(filler.repeat(5) + "FREE MEMBERSHIP\r\n")),
                "text past body_checks_size_limit is not inspected");
        assertInstanceOf(EventVerdict.Reject.class, checks(main).body(chunk(filler.repeat(4) + "FREE MEMBERSHIP\r\n")));

        HeaderBodyChecks parts = checks(main);
        assertEquals(CONTINUE, parts.header(header("Content-Type: multipart/mixed; boundary=\"b1\"")));
        assertEquals(CONTINUE, parts.body(chunk("--b1\r\n\r\n" + filler.repeat(5))));
        assertInstanceOf(EventVerdict.Reject.class, parts.body(chunk("--b1\r\n\r\nFREE MEMBERSHIP\r\n--b1--\r\n")),
                "a new part is inspected from its start");
    }

    @Test
    void mimePartHeadersAndAttachedMessagesHeadersAcrossAMultipartBody() throws Exception {
        table("top", "/^Subject: forwarded virus/ REJECT top-level match");
        table("mime", "/^Content-Disposition:.*filename=\"?readme\\.exe/ REJECT Nimda",
                "/^Content-Description: internal/ IGNORE", "/^Content-Type: multipart/ DUNNO");
        table("nested", "/^Subject: forwarded virus/ REJECT nested match");
        String main = "header_checks = pattern:top\nmime_header_checks = pattern:mime\n"
                + "nested_header_checks = pattern:nested\n";
        String top = "Content-Type: multipart/mixed;\r\n boundary=\"b1\"";

        HeaderBodyChecks c = checks(main);
        assertEquals(CONTINUE, c.header(header("Subject: fwd")));
        assertEquals(CONTINUE, c.header(header(top)));
        assertEquals("preamble\r\n--b1\r\nContent-Type: text/plain\r\n\r\nSubject: forwarded virus\r\n",
                replaced(c.body(chunk("preamble\r\n--b1\r\nContent-Type: text/plain\r\nContent-Description: "
                        + "internal\r\n\r\nSubject: forwarded virus\r\n"))),
                "the part header is removed; body text of a text part is no header");
        assertEquals(CONTINUE, c.body(chunk("--b1\r\nContent-Type: message/rfc822\r\n\r\nFrom: a@example.org\r\n"
                + "Subject: forwarded virus\r\n")), "the Subject is not complete before the next line");
        assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1", "nested match")),
                c.body(chunk("\r\nnested body\r\n--b1--\r\n")),
                "the attached message's Subject goes to nested_header_checks, not header_checks");
        assertEquals(List.of("reject: header Subject: forwarded virus: 5.7.1 nested match"), lines);

        // a folded part header that spans two chunks is checked whole
        HeaderBodyChecks folded = checks(main);
        folded.header(header(top));
        assertEquals(CONTINUE, folded.body(chunk("--b1\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Disposition: attachment;\r\n")));
        assertEquals(new EventVerdict.Reject(new Reply(550, "5.7.1", "Nimda")),
                folded.body(chunk("\tfilename=\"readme.exe\"\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b1--\r\n")));
        HeaderBodyChecks clean = checks(main);
        clean.header(header(top));
        assertEquals(CONTINUE, clean.body(chunk("--b1\r\nContent-Type: application/octet-stream\r\n"
                + "Content-Disposition: attachment;\r\n\tfilename=\"report.pdf\"\r\n\r\nJVBERi0=\r\n--b1--\r\n")));
        assertEquals(FilterVerdict.accept(), clean.endOfMessage(ENVELOPE, null));

        // an edit of a part header that began in an earlier chunk is left out with a warning, its bytes kept
        lines.clear();
        HeaderBodyChecks late = checks(main);
        late.header(header(top));
        assertEquals(CONTINUE, late.body(chunk("--b1\r\nContent-Description: internal\r\n")));
        assertEquals(CONTINUE, late.body(chunk("\r\ntext\r\n--b1--\r\n")));
        assertEquals(List.of("warning: mime_header_checks map: IGNORE not applied to header Content-Description: "
                + "internal -- it began in an earlier body chunk, already passed on"), lines);

        // a part header still open at the end of the message: checked, refusals still count
        HeaderBodyChecks open = checks(main);
        open.header(header(top));
        assertEquals(CONTINUE, open.body(chunk("--b1\r\nContent-Disposition: attachment; filename=readme.exe")));
        assertEquals(new FilterVerdict.Reject(new Reply(550, "5.7.1", "Nimda")), open.endOfMessage(ENVELOPE, null));
    }

    @Test
    void aHoldInAnEditedChunkIsAnsweredAtTheNextEvent() throws Exception {
        table("b", "/^hold/ HOLD body hold", "/^secret/ REPLACE [removed]");
        HeaderBodyChecks c = checks("body_checks = pattern:b\n");
        assertEquals("[removed]\r\nhold\r\n", replaced(c.body(chunk("secret\r\nhold\r\n"))));
        assertEquals(new EventVerdict.Hold("body hold"), c.body(chunk("more\r\n")));
        assertEquals(FilterVerdict.accept(), c.endOfMessage(ENVELOPE, null));

        HeaderBodyChecks last = checks("body_checks = pattern:b\n");
        assertEquals("[removed]\r\nhold\r\n", replaced(last.body(chunk("secret\r\nhold\r\n"))));
        assertEquals(new FilterVerdict.Hold("body hold"), last.endOfMessage(ENVELOPE, null));
    }
}
