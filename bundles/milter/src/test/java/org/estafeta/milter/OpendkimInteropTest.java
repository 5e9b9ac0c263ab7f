package org.estafeta.milter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.estafeta.milter.MilterSession.AddressFamily;
import org.estafeta.milter.MilterVerdict.Action;
import org.estafeta.testing.PrivateOpendkim;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a real OpenDKIM: a message driven through a signing opendkim gets a DKIM-Signature header
 * (an add/insert-header action) for the domain; the signed message driven through a second, verifying opendkim
 * (public key from its TestPublicKeys file, no DNS) gets {@code Authentication-Results: ...; dkim=pass}.
 */
class OpendkimInteropTest {
    private static final String DOMAIN = "example.org";
    private static final String SELECTOR = "estafeta";

    @TempDir
    Path tmp;

    record Header(String name, String value) {
    }

    @Test
    void signsWithOpendkimAndASecondOpendkimVerifiesTheSignature() throws Exception {
        List<Header> headers = List.of(
                new Header("From", " Alice <alice@example.org>"),
                new Header("To", " bob@example.net"),
                new Header("Subject", " milter interop\r\n\tfolded subject line"),
                new Header("Date", " Tue, 24 Nov 2026 11:00:00 +0000"),
                new Header("Message-ID", " <interop-1@example.org>"));
        // more than two 65535-byte chunks, so that chunking and the final partial chunk both happen
        StringBuilder b = new StringBuilder();
        for (int i = 0; b.length() < 150_000; i++) {
            b.append("line ").append(i).append(" of the body, signed by opendkim through the estafeta milter client\r\n");
        }
        byte[] body = b.toString().getBytes(StandardCharsets.US_ASCII);

        String signature;
        try (PrivateOpendkim signer = PrivateOpendkim.signer(tmp.resolve("signer"), DOMAIN, SELECTOR)) {
            List<MilterAction> actions = run(signer, "127.0.0.1", "localhost", headers, body);
            Header dkim = added(actions, "DKIM-Signature");
            assertTrue(dkim != null, "no DKIM-Signature added; actions: " + actions + "\nopendkim log:\n" + signer.log());
            signature = dkim.value();
            assertTrue(signature.matches("(?s).*\\bd=example\\.org;.*"), signature);
            assertTrue(signature.matches("(?s).*\\bs=" + SELECTOR + ";.*"), signature);
            assertTrue(signature.startsWith(" v=1;"), "Postfix's separating space, then the value: " + signature);

            List<Header> signed = new ArrayList<>();
            signed.add(new Header("DKIM-Signature", signature));
            signed.addAll(headers);
            try (PrivateOpendkim verifier = PrivateOpendkim.verifier(tmp.resolve("verifier"), DOMAIN, SELECTOR,
                    signer.publicKeyRecord(), "verifier.example.net")) {
                List<MilterAction> vactions = run(verifier, "192.0.2.25", "mail.example.org", signed, body);
                Header ar = added(vactions, "Authentication-Results");
                assertTrue(ar != null, "no Authentication-Results; actions: " + vactions + "\nlog:\n" + verifier.log());
                assertTrue(ar.value().contains("verifier.example.net"), ar.value());
                assertTrue(ar.value().matches("(?s).*dkim=pass\\b.*header\\.d=example\\.org.*"), ar.value());

                // and the check can fail: one changed body byte gives dkim=fail
                byte[] tampered = body.clone();
                tampered[10] = (byte) 'X';
                Header bad = added(run(verifier, "192.0.2.25", "mail.example.org", signed, tampered),
                        "Authentication-Results");
                assertTrue(bad != null && bad.value().contains("dkim=fail"), String.valueOf(bad));
            }
        }
    }

    /** One whole SMTP session with one message through {@code milter}; returns the end-of-message actions. */
    private static List<MilterAction> run(PrivateOpendkim milter, String clientAddr, String clientName,
            List<Header> headers, byte[] body) {
        Map<String, String> macros = new HashMap<>(Map.of("j", "mx.example.org", "_", clientName + " [" + clientAddr
                + "]", "{client_addr}", clientAddr, "{client_name}", clientName, "i", "4ABC123DEF"));
        MilterSettings settings = MilterSettings.defaults();
        try (MilterSession s = Milters.open(List.of(MilterSpec.of(milter.milterAddress())), settings, macros::get)) {
            assertEquals(Action.CONTINUE, s.connect(clientName, AddressFamily.INET, clientAddr, 41000).action());
            assertEquals(Action.CONTINUE, s.helo(clientName).action());
            macros.put("{mail_addr}", "alice@example.org");
            assertEquals(Action.CONTINUE, s.mail("alice@example.org", List.of("SIZE=" + body.length)).action());
            macros.put("{rcpt_addr}", "bob@example.net");
            assertEquals(Action.CONTINUE, s.rcpt("bob@example.net", List.of()).action());
            assertEquals(Action.CONTINUE, s.data().action());
            for (Header h : headers) {
                assertEquals(Action.CONTINUE, s.header(h.name(), h.value()).action());
            }
            assertEquals(Action.CONTINUE, s.endOfHeaders().action());
            for (int off = 0; off < body.length; off += 7000) {
                assertEquals(Action.CONTINUE, s.body(body, off, Math.min(7000, body.length - off)).action());
            }
            try (MilterResult r = s.endOfMessage()) {
                assertEquals(Action.CONTINUE, r.verdict().action(), () -> r + "\n" + milter.log());
                s.abort();
                return r.actions();
            }
        }
    }

    private static Header added(List<MilterAction> actions, String name) {
        for (MilterAction a : actions) {
            if (a instanceof MilterAction.AddHeader h && h.name().equalsIgnoreCase(name)) {
                return new Header(h.name(), h.value());
            }
            if (a instanceof MilterAction.InsertHeader h && h.name().equalsIgnoreCase(name)) {
                return new Header(h.name(), h.value());
            }
        }
        return null;
    }
}
