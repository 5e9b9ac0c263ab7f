package org.estafeta.transport.pipe.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ArgvExpanderTest {
    private static final List<ArgvExpander.Recipient> TWO = List.of(
            new ArgvExpander.Recipient("Ana+Spam@Example.COM", "Ana+Spam@Example.COM"),
            new ArgvExpander.Recipient("john doe@example.net", "john doe@example.net"));

    private static List<String> expand(String flags, String argv) throws PipeConfigException {
        PipeAttributes attr = PipeAttributes.parse(List.of("flags=" + flags, "user=x", "argv=" + argv.split(" ")[0]));
        ArgvExpander e = new ArgvExpander(Map.of("sender", "s@example.org", "nexthop", "Relay.Example", "size", "42"),
                attr, "+", "double-bounce", true);
        return e.expand(List.of(argv.split(" ")), TWO);
    }

    @Test
    void recipientAloneBecomesOneArgumentPerRecipient() throws Exception {
        assertEquals(List.of("/f", "-f", "s@example.org", "--", "Ana+Spam@Example.COM", "john doe@example.net"),
                expand("", "/f -f ${sender} -- ${recipient}"));
    }

    @Test
    void anyArgumentNamingARecipientMacroRepeatsPerRecipient() throws Exception {
        assertEquals(List.of("/f", "to=Ana+Spam@Example.COM;size=42", "to=john doe@example.net;size=42"),
                expand("", "/f to=$recipient;size=$(size)"));
    }

    @Test
    void partsOfTheRecipient() throws Exception {
        assertEquals(List.of("/f", "Ana|Spam|Ana+Spam|Example.COM", "john doe||john doe|example.net"),
                expand("", "/f ${user}|${extension}|${mailbox}|${domain}"));
    }

    @Test
    void flagsQuoteAndFold() throws Exception {
        assertEquals(List.of("/f", "ana+spam@example.com", "\"john doe\"@example.net"), expand("qhu", "/f ${recipient}"));
        assertEquals(List.of("/f", "Ana+Spam@example.com", "john doe@example.net"), expand("h", "/f ${recipient}"));
        assertEquals(List.of("/f", "ana+spam@Example.COM", "john doe@example.net"), expand("u", "/f ${recipient}"));
        assertEquals(List.of("/f", "ana", "john doe"), expand("qu", "/f ${user}"), "q does not touch $user");
    }

    @Test
    void dollarDollarIsADollar() throws Exception {
        assertEquals(List.of("/f", "$5", "a$"), expand("", "/f $$5 a$$"));
    }

    @Test
    void badMacrosAreConfigurationErrors() {
        assertEquals("unknown macro name: \"bogus\"",
                assertThrows(PipeConfigException.class, () -> expand("", "/f ${bogus}")).getMessage());
        assertThrows(PipeConfigException.class, () -> expand("", "/f ${sender"));
        assertThrows(PipeConfigException.class, () -> expand("", "/f $-"));
    }

    @Test
    void addressQuotingAsQuote822Local() {
        assertEquals("user@example.com", Addresses.quoteLocal("user@example.com"));
        assertEquals("\"john doe\"@example.com", Addresses.quoteLocal("john doe@example.com"));
        assertEquals("\"a\\\"b\"@x", Addresses.quoteLocal("a\"b@x"));
        assertEquals("\"a..b\"@x", Addresses.quoteLocal("a..b@x"));
        assertEquals("\".a\"@x", Addresses.quoteLocal(".a@x"));
        assertEquals("\"a@b\"@x", Addresses.quoteLocal("a@b@x"));
        assertEquals("\"\"", Addresses.quoteLocal(""));
        assertEquals("ñandú@example.es", Addresses.quoteLocal("ñandú@example.es"), "8-bit clean");
    }

    @Test
    void extensionSplitsAsSplitAddr() {
        assertEquals("user", Addresses.splitExtension("user-ext", "-+", "double-bounce", true)[0]);
        assertEquals("ext+more", Addresses.splitExtension("user+ext+more", "+", "double-bounce", true)[1]);
        assertEquals(null, Addresses.splitExtension("owner-list", "-", "double-bounce", true)[1]);
        assertEquals(null, Addresses.splitExtension("list-request", "-", "double-bounce", true)[1]);
        assertEquals(null, Addresses.splitExtension("double-bounce", "-", "double-bounce", true)[1]);
        assertEquals(null, Addresses.splitExtension("+ext", "+", "double-bounce", true)[1], "no empty user");
        assertEquals(null, Addresses.splitExtension("user+ext", "", "double-bounce", true)[1]);
    }
}
