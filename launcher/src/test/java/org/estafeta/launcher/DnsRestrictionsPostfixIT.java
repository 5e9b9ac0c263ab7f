package org.estafeta.launcher;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.estafeta.testing.Dnsmasq;
import org.estafeta.testing.PrivatePostfix;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * {@link DnsRestrictionScenarios} against a private real Postfix 3.7 that runs in a mount namespace whose
 * /etc/resolv.conf says {@code nameserver 127.0.1.53}, where a dnsmasq with {@link #RECORDS} listens on port 53.
 * (The shared {@link Dnsmasq} helper picks a free high port, which glibc cannot use, so this one dnsmasq is started
 * here with the same options plus a fixed address and port.)
 */
class DnsRestrictionsPostfixIT extends DnsRestrictionScenarios {
    static final int PORT = 27325;
    static final String NAMESERVER = "127.0.1.53";
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
        PrivatePostfix.Builder b = PrivatePostfix.builder("dns-" + PORT);
        postfix = b.mainCf(mainCf("127.0.0.1:53")).masterCf(masterCf(PORT)).resolvConf(NAMESERVER).start();
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
    int port() {
        return PORT;
    }
}
