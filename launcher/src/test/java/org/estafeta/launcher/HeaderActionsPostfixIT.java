package org.estafeta.launcher;

import static org.estafeta.launcher.ItSupport.estafeta;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.estafeta.testing.PrivatePostfix;
import org.estafeta.testing.SmtpClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * header_checks' REDIRECT, BCC and FILTER (and their malformed forms) against a private real Postfix and the gateway,
 * with the same header_checks file and the same sessions: the cleanup log lines and the records postcat shows after
 * the content ({@code *** HEADER EXTRACTED ***}) must be Postfix's. Every message is put on hold by its first header,
 * so that both queues keep it for postcat.
 */
class HeaderActionsPostfixIT {
    static final int POSTFIX_PORT = 28568;
    static final int ESTAFETA_PORT = 28569;
    static final String HEADER_CHECKS = String.join("\n",
            "/^X-Hold:/ HOLD",
            "/^Subject: redirect me/ REDIRECT boss@redirect.example",
            "/^X-After-Redirect:/ BCC never@checked.example",
            "/^Subject: copy me/ BCC audit@audit.example",
            "/^X-Copy-Too:/ BCC second@audit.example",
            "/^Subject: filter me/ FILTER scanner:[127.0.0.1]:10025",
            "/^X-Filter-Again:/ FILTER other:[127.0.0.2]:10026",
            "/^X-Bad-Redirect:/ REDIRECT nobody",
            "/^X-Bad-Filter:/ FILTER nocolon",
            "/^X-Bad-Bcc:/ BCC nobody",
            "");
    /** The messages, by name: the same bytes go to both. */
    static final Map<String, String> MESSAGES = new TreeMap<>(Map.of(
            "redirect", "X-Hold: 1\r\nSubject: redirect me\r\nX-After-Redirect: 1\r\n\r\nbody\r\n",
            "bcc", "X-Hold: 1\r\nSubject: copy me\r\nX-Copy-Too: yes\r\n\r\nbody\r\n",
            "filter", "X-Hold: 1\r\nSubject: filter me\r\nX-Filter-Again: 1\r\n\r\nbody\r\n",
            "bad", "X-Hold: 1\r\nX-Bad-Redirect: 1\r\nX-Bad-Filter: 1\r\nX-Bad-Bcc: 1\r\nSubject: bad\r\n\r\nbody\r\n"));
    static final Pattern QUEUED = Pattern.compile("^250 2\\.0\\.0 Ok: queued as (\\S+)$");
    static final Pattern CLIENT = Pattern.compile(" from [^\\s\\[;]+\\[");
    static final Pattern CLEANUP = Pattern.compile("cleanup(?:\\[\\d+\\])?: (?:(\\w+): )?(.*)$", Pattern.MULTILINE);

    @TempDir
    Path tmp;

    static String mainCf(Path headerChecks) {
        return String.join("\n",
                "compatibility_level = 3.6",
                "myhostname = checks.example",
                "mydestination =",
                "mynetworks = 127.0.0.0/8",
                "header_checks = regexp:" + headerChecks,
                "");
    }

    /** Sends each message; returns the queue IDs by message name. */
    static Map<String, String> send(int port) throws Exception {
        Map<String, String> ids = new TreeMap<>();
        for (Map.Entry<String, String> m : MESSAGES.entrySet()) {
            try (SmtpClient c = SmtpClient.connect(port, null)) {
                c.reply();
                c.command("EHLO client.example");
                c.command("MAIL FROM:<sender@client.example>");
                c.command("RCPT TO:<a@one.example>");
                c.command("RCPT TO:<b@two.example>");
                c.command("DATA");
                c.send(m.getValue() + ".\r\n");
                List<String> r = c.reply();
                c.command("QUIT");
                Matcher q = QUEUED.matcher(r.get(r.size() - 1));
                assertTrue(q.find(), m.getKey() + ": " + r);
                ids.put(m.getKey(), q.group(1));
            }
        }
        return ids;
    }

    /** cleanup's lines about these messages (the queue ID replaced by the message's name) and its warnings. */
    static List<String> cleanupLines(String maillog, Map<String, String> ids) {
        Map<String, String> names = new TreeMap<>();
        ids.forEach((name, id) -> names.put(id, name));
        List<String> out = new ArrayList<>();
        Matcher m = CLEANUP.matcher(maillog);
        while (m.find()) {
            String id = m.group(1);
            if (id != null && names.containsKey(id) && !m.group(2).startsWith("message-id=")) {
                // the client's name is smtpd's (its reverse lookup may time out on a busy machine: unknown[addr])
                out.add(names.get(id) + ": " + CLIENT.matcher(m.group(2)).replaceFirst(" from CLIENT["));
            } else if (id != null && id.equals("warning")) {
                out.add("warning: " + m.group(2));
            }
        }
        return out;
    }

    /** The records postcat shows after the content, that carry header_checks' decisions. */
    static String extracted(String postcat) {
        int at = postcat.indexOf("*** HEADER EXTRACTED ");
        assertTrue(at >= 0, postcat);
        StringBuilder sb = new StringBuilder();
        for (String l : postcat.substring(at).split("\n")) {
            if (l.startsWith("content_filter: ") || l.startsWith("redirect_to: ") || l.startsWith("recipient: ")) {
                sb.append(l).append('\n');
            }
        }
        return sb.toString();
    }

    static Map<String, String> postcat(Map<String, String> ids, Function<String, String> cat) {
        Map<String, String> out = new TreeMap<>();
        ids.forEach((name, id) -> out.put(name, extracted(cat.apply(id))));
        return out;
    }

    @Test
    void logLinesAndQueuedRecordsAreThoseOfPostfix() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        PrivatePostfix.Builder b = PrivatePostfix.builder("header-actions");
        Map<String, String> postfixIds;
        List<String> postfixLog;
        Map<String, String> postfixRecords;
        try (PrivatePostfix postfix = b.mainCf(mainCf(b.directory().resolve("header_checks")))
                .masterCf("127.0.0.1:" + POSTFIX_PORT + " inet n - n - - smtpd\n")
                .file("header_checks", HEADER_CHECKS).start()) {
            postfixIds = send(POSTFIX_PORT);
            assertTrue(ItSupport.waitFor(() -> cleanupLines(postfix.maillog(), postfixIds).stream()
                    .filter(l -> l.startsWith("redirect: redirect")).count() == 1, 20), postfix.maillog());
            postfixLog = cleanupLines(postfix.maillog(), postfixIds);
            postfixRecords = postcat(postfixIds, id -> {
                try {
                    return ItSupport.exec(List.of("/usr/sbin/postcat", "-c", b.directory().toString(), "-q", id),
                            Map.of(), 30).stdout();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
        }

        Path conf = Files.createDirectories(tmp.resolve("conf"));
        Files.writeString(conf.resolve("header_checks"), HEADER_CHECKS);
        Gateway gw = EstafetaTarget.start(tmp, mainCf(conf.resolve("header_checks")),
                "127.0.0.1:" + ESTAFETA_PORT + " inet n - n - - smtpd\n");
        try {
            EstafetaTarget.awaitListener(ESTAFETA_PORT);
            Map<String, String> ids = send(ESTAFETA_PORT);
            assertTrue(ItSupport.waitFor(() -> cleanupLines(ItSupport.maillog(gw), ids).stream()
                    .filter(l -> l.startsWith("redirect: redirect")).count() == 1, 20), ItSupport.maillog(gw));
            assertEquals(String.join("\n", postfixLog), String.join("\n", cleanupLines(ItSupport.maillog(gw), ids)),
                    "cleanup's log lines");
            Path var = tmp.resolve("var");
            assertEquals(postfixRecords, postcat(ids, id -> {
                try {
                    return estafeta(conf, var, "postcat", "-q", id).stdout();
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }), "postcat's extracted records");
            assertEquals(Map.of("bad", "", "bcc", "recipient: audit@audit.example\nrecipient: second@audit.example\n",
                    "filter", "content_filter: other:[127.0.0.2]:10026\n",
                    "redirect", "redirect_to: boss@redirect.example\n"), postfixRecords,
                    "what Postfix records: the last FILTER wins; REDIRECT ends the checks (no BCC after it)");
        } finally {
            gw.stop();
        }
    }
}
