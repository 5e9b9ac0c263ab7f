package org.estafeta.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.estafeta.testing.Dnsmasq;
import org.estafeta.testing.PrivatePostfix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link RestrictionScenarios} against a private real Postfix 3.7 in a mount namespace whose /etc/resolv.conf says
 * {@code nameserver 127.0.1.54}, where a dnsmasq with {@link #RECORDS} listens on port 53 (as
 * {@link DnsRestrictionsPostfixIT} does, on an address of its own). Proves the expected replies.
 */
class RestrictionsPostfixIT extends RestrictionScenarios {
    static final int PORT = 27425;
    static final String NAMESERVER = "127.0.1.54";
    static PrivatePostfix postfix;
    static Process dnsmasq;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(PrivatePostfix.availableOrFail());
        List<String> cmd = new ArrayList<>(List.of(Dnsmasq.require().toString(), "--keep-in-foreground", "--no-resolv",
                "--no-hosts", "--conf-file=/dev/null", "--bind-interfaces", "--listen-address=" + NAMESERVER,
                "--port=53", "--pid-file", "--user=root", "--log-facility=-"));
        cmd.addAll(RECORDS);
        dnsmasq = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        postfix = PrivatePostfix.builder("restrictions-" + PORT).mainCf(mainCf("127.0.0.1:53")).masterCf(masterCf(PORT))
                .resolvConf(NAMESERVER).start();
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (postfix != null) {
            postfix.close();
        }
        if (dnsmasq != null) {
            dnsmasq.destroy();
            dnsmasq.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Override
    int basePort() {
        return PORT;
    }

    /**
     * Postfix 3.7 reads at most line_length_limit bytes of a command and runs them; the rest of the line is read
     * as the next command. (Postfix 3.12 answers "command too long" instead, as Estafeta does: see
     * {@link RestrictionsEstafetaIT#overlongCommandIsRefused}.)
     */
    @Test
    void overlongCommandRunsItsFirstPart() throws Exception {
        assertEquals(List.of("250 2.0.0 Ok", "221 2.0.0 Bye"), overlongCommand());
    }
}
