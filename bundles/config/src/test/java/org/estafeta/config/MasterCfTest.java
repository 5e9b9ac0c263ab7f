package org.estafeta.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MasterCfTest {
    @TempDir
    Path dir;

    private ConfigSnapshot load(String masterCf) throws ConfigException {
        return ConfigLoader.load(TestDirs.write(dir, "myhostname = mx.example.org\n", masterCf), dir.resolve("var"));
    }

    @Test
    void tutorialMasterCf() throws Exception {
        ConfigSnapshot s = ConfigLoader.load(TestDirs.tutorial(dir), dir.resolve("var"));
        List<MasterEntry> e = s.services();
        assertEquals(20, e.size());
        MasterEntry smtp = e.get(0);
        assertEquals("smtp/inet", smtp.id());
        assertEquals(List.of("smtp", "inet", "n", "-", "n", "-", "-", "smtpd"), List.of(smtp.service(), smtp.type(),
                smtp.privateAccess(), smtp.unprivileged(), smtp.chroot(), smtp.wakeup(), smtp.maxproc(), smtp.command()));
        assertEquals(8, smtp.line());
        MasterEntry qmgr = e.get(3);
        assertEquals("nqmgr", qmgr.command()); // the commented-out qmgr line is skipped
        assertEquals("1000?", e.get(8).wakeup());
        MasterEntry cyrus = e.stream().filter(x -> x.service().equals("cyrus")).findFirst().orElseThrow();
        assertEquals(List.of("flags=R", "user=cyrus", "argv=/cyrus/bin/deliver", "-e", "-m", "${extension}", "${user}"),
                cyrus.arguments());
        assertEquals(27, cyrus.line());
        MasterEntry uucp = e.stream().filter(x -> x.service().equals("uucp")).findFirst().orElseThrow();
        assertEquals("-a$sender", uucp.arguments().get(6));
        assertEquals("($recipient)", uucp.arguments().get(uucp.arguments().size() - 1));
    }

    @Test
    void overridesOnContinuationLinesAndInAllForms() throws Exception {
        ConfigSnapshot s = load(String.join("\n",
                "# comment",
                "submission inet n - y - - smtpd",
                "  -o syslog_name=postfix/submission",
                "  # comment between",
                "  -o smtpd_tls_security_level=encrypt -v",
                "  -osmtpd_sasl_auth_enable=yes",
                "  -o { smtpd_banner = $myhostname hello there }",
                "  -o myhostname=",
                "  -o smtpd_upstream_proxy_protocol=haproxy",
                "relay unix - - n - - smtp -o syslog_name=$service_name/x",
                ""));
        MasterEntry sub = s.services().get(0);
        assertEquals(2, sub.line());
        assertEquals(Map.of("syslog_name", "postfix/submission", "smtpd_tls_security_level", "encrypt",
                "smtpd_sasl_auth_enable", "yes", "smtpd_banner", "$myhostname hello there", "myhostname", "",
                "smtpd_upstream_proxy_protocol", "haproxy"),
                sub.overrides());
        assertEquals(List.of("syslog_name", "smtpd_tls_security_level", "smtpd_sasl_auth_enable", "smtpd_banner",
                "myhostname", "smtpd_upstream_proxy_protocol"), List.copyOf(sub.overrides().keySet()));
        assertEquals(List.of("-v"), sub.arguments());
        ConfigSnapshot subScope = s.forService(sub);
        assertEquals(" hello there", subScope.value("smtpd_banner"));
        assertEquals("postfix/submission", subScope.value("syslog_name"));
        assertTrue(subScope.isExplicit("smtpd_sasl_auth_enable"));
        assertEquals("mx.example.org ESMTP Estafeta", s.value("smtpd_banner")); // the global snapshot is unchanged
        assertEquals("relay/x", s.forService(s.services().get(1)).value("syslog_name"));
        // warnings name the line of the -o that sets a parameter not supported yet (line 9); supported ones warn nothing
        assertTrue(s.warnings().contains(new ConfigWarning(dir.resolve("master.cf").toString(), 9,
                "parameter not supported yet: smtpd_upstream_proxy_protocol=haproxy")), s.warnings()::toString);
        assertTrue(s.warnings().stream().noneMatch(w -> w.message().contains("smtpd_sasl_auth_enable")), s.warnings()::toString);
    }

    @Test
    void debianStockMasterCfLoads() throws Exception {
        ConfigSnapshot s = load(TestDirs.resource("debian-master.cf"));
        List<String> ids = s.services().stream().map(MasterEntry::id).toList();
        assertTrue(ids.containsAll(List.of("smtp/inet", "pickup/unix", "cleanup/unix", "qmgr/unix", "tlsmgr/unix",
                "rewrite/unix", "bounce/unix", "defer/unix", "trace/unix", "verify/unix", "flush/unix", "proxymap/unix",
                "proxywrite/unix", "smtp/unix", "relay/unix", "showq/unix", "error/unix", "retry/unix", "discard/unix",
                "local/unix", "virtual/unix", "lmtp/unix", "anvil/unix", "scache/unix", "postlog/unix-dgram",
                "maildrop/unix", "uucp/unix", "ifmail/unix", "bsmtp/unix", "scalemail-backend/unix", "mailman/unix")),
                ids.toString());
        MasterEntry relay = s.services().stream().filter(x -> x.id().equals("relay/unix")).findFirst().orElseThrow();
        assertEquals(Map.of("syslog_name", "postfix/$service_name"), relay.overrides());
        assertEquals("postfix/relay", s.forService(relay).value("syslog_name"));
        assertEquals("postlogd", s.services().stream().filter(x -> x.type().equals("unix-dgram")).findFirst()
                .orElseThrow().command());
    }

    @Test
    void errorsNameFileAndLine() {
        ConfigException few = assertThrows(ConfigException.class, () -> load("# x\n\nsmtp inet n - n - smtpd\n"));
        assertEquals(dir.resolve("master.cf").toString(), few.file());
        assertEquals(3, few.line());
        assertTrue(few.getMessage().contains("bad field count"), few.getMessage());
        ConfigException type = assertThrows(ConfigException.class, () -> load("smtp tcp n - n - - smtpd\n"));
        assertTrue(type.getMessage().endsWith("line 1: invalid type field \"tcp\" in \"smtp tcp n - n - - smtpd\""),
                type.getMessage());
        ConfigException bool = assertThrows(ConfigException.class, () -> load("smtp inet yes - n - - smtpd\n"));
        assertTrue(bool.getMessage().contains("invalid private field \"yes\""), bool.getMessage());
        ConfigException maxproc = assertThrows(ConfigException.class, () -> load("smtp inet n - n - x smtpd\n"));
        assertTrue(maxproc.getMessage().contains("invalid maxproc field \"x\""), maxproc.getMessage());
        ConfigException o = assertThrows(ConfigException.class, () -> load("smtp inet n - n - - smtpd\n\n  -o foo\n"));
        assertEquals(3, o.line(), o.getMessage());
        assertTrue(o.getMessage().contains("missing '=' after attribute name"), o.getMessage());
        ConfigException loop = assertThrows(ConfigException.class,
                () -> load("smtp inet n - n - - smtpd\n  -o mail_name=$syslog_name\n  -o syslog_name=$mail_name\n"));
        assertEquals(dir.resolve("master.cf").toString(), loop.file());
        assertEquals(2, loop.line(), loop.getMessage());
    }

    @Test
    void missingMasterCfIsAWarningNotAnError() throws Exception {
        ConfigSnapshot s = ConfigLoader.load(TestDirs.write(dir, "mail_name = x\n", null), dir);
        assertEquals(List.of(), s.services());
        assertTrue(s.warnings().stream().anyMatch(w -> w.file().endsWith("master.cf")), s.warnings()::toString);
    }
}
