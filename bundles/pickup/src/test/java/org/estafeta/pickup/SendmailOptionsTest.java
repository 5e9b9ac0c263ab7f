package org.estafeta.pickup;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** The command line as Postfix's sendmail reads it (getopt, its option list and its refusals). */
class SendmailOptionsTest {
    private static SendmailOptions parse(String... args) throws Exception {
        return SendmailOptions.parse(List.of(args));
    }

    @Test
    void senderFullNameAndRecipientsWithSeparateAndAttachedValues() throws Exception {
        SendmailOptions o = parse("-f", "alice@example.org", "-FAlice Liddell", "bob", "carol@example.net");
        assertEquals(Optional.of("alice@example.org"), o.sender());
        assertEquals(Optional.of("Alice Liddell"), o.fullName());
        assertEquals(List.of("bob", "carol@example.net"), o.recipients());
        assertTrue(o.dotEnds(), "a lone dot ends the message by default");
        assertFalse(o.extractRecipients());
        assertEquals(Optional.of("x@y"), parse("-fx@y", "z").sender());
        assertEquals(Optional.of("x@y"), parse("-r", "x@y", "z").sender(), "-r is the obsolete -f");
    }

    @Test
    void groupedFlagsDashIAndDashOi() throws Exception {
        SendmailOptions o = parse("-ti");
        assertTrue(o.extractRecipients());
        assertFalse(o.dotEnds());
        assertFalse(parse("-oi", "u").dotEnds());
        assertFalse(parse("-t", "-o", "i").dotEnds(), "-o takes its value from the next argument too");
        assertTrue(parse("-oem", "-odb", "-oQ/var", "-v", "-bm", "u").dotEnds(), "other -o options are ignored");
        assertEquals(List.of("u"), parse("-oem", "-odb", "-bm", "-G", "-U", "u").recipients());
    }

    @Test
    void optionsEndAtDoubleDashOrTheFirstArgument() throws Exception {
        assertEquals(List.of("-t", "u"), parse("--", "-t", "u").recipients());
        SendmailOptions o = parse("u", "-t");
        assertEquals(List.of("u", "-t"), o.recipients());
        assertFalse(o.extractRecipients());
    }

    @Test
    void dsnOptions() throws Exception {
        SendmailOptions o = parse("-N", "success,delay", "-R", "hdrs", "-V", "env-1", "-B", "8BITMIME", "u");
        assertEquals(List.of("SUCCESS", "DELAY"), o.notifyOn());
        assertEquals(Optional.of("HDRS"), o.ret());
        assertEquals(Optional.of("env-1"), o.envid());
        assertEquals(Optional.of("8BITMIME"), o.body());
        assertEquals(List.of("bad -N option value: 'never,success' -- ignored"), parse("-N", "never,success", "u").warnings());
        assertEquals(List.of("bad -R option value -- ignored"), parse("-R", "all", "u").warnings());
    }

    @Test
    void refusalsWithPostfixTextsAndExitCodes() {
        var e = assertThrows(SendmailOptions.UsageException.class, () -> parse("-n", "u"));
        assertEquals(64, e.exit());
        assertEquals("-n option not supported", e.getMessage());
        e = assertThrows(SendmailOptions.UsageException.class, () -> parse("-k", "u"));
        assertEquals("usage: sendmail [options]", e.getMessage());
        assertEquals(64, e.exit());
        e = assertThrows(SendmailOptions.UsageException.class, () -> parse("-f"));
        assertEquals(64, e.exit(), "an option without its value");
        e = assertThrows(SendmailOptions.UsageException.class, () -> parse("-B", "9BIT", "u"));
        assertEquals("-B option needs 8BITMIME or 7BIT", e.getMessage());
        e = assertThrows(SendmailOptions.UsageException.class, () -> parse("-bz"));
        assertEquals("unsupported: -bz", e.getMessage());
        e = assertThrows(SendmailOptions.UsageException.class, () -> parse("-bp"));
        assertEquals(69, e.exit(), "mailq mode is left to postqueue");
    }
}
