package org.estafeta.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WarningsTest {
    @TempDir
    Path dir;

    /** What the tutorial's main.cf sets that Estafeta supports today (see docs/configuration.md). */
    private static final Set<String> SUPPORTED_IN_TUTORIAL = Set.of("myhostname", "mydomain", "myorigin",
            "queue_directory", "mynetworks", "mydestination", "mail_name", "smtpd_banner", "smtpd_helo_required",
            "disable_vrfy_command", "message_size_limit", "smtpd_client_restrictions", "smtpd_helo_restrictions",
            "smtpd_recipient_restrictions", "smtpd_use_tls", "smtpd_tls_key_file", "smtpd_tls_cert_file",
            "local_destination_concurrency_limit", "default_destination_concurrency_limit", "notify_classes",
            "transport_maps", "disable_dns_lookups", "maximal_queue_lifetime", "header_checks", "body_checks", "content_filter",
            "alias_maps", "alias_database", "mailbox_size_limit", "local_recipient_maps", "smtp_use_tls",
            "smtp_tls_key_file", "smtp_tls_cert_file", "smtp_tls_CAfile", "smtp_tls_session_cache_database",
            "broken_sasl_auth_clients", "smtpd_sasl_local_domain", "smtpd_tls_CAfile", "smtpd_tls_session_cache_database", "smtpd_sasl_auth_enable", "smtpd_sasl_security_options");

    @Test
    void tutorialMainCfParsesAndEveryUnsupportedParameterIsNamed() throws Exception {
        ConfigSnapshot s = ConfigLoader.load(TestDirs.tutorial(dir), dir.resolve("var"));
        // names taken from the file with a plain regex, independent of the parser under test
        List<String> names = new ArrayList<>();
        Matcher m = Pattern.compile("(?m)^([A-Za-z0-9_]+)\\s*=").matcher(TestDirs.resource("tutorial/main.cf"));
        while (m.find()) {
            names.add(m.group(1));
        }
        assertEquals(46, names.size(), names.toString());
        List<String> messages = s.warnings().stream().map(ConfigWarning::message).toList();
        for (String n : names) {
            String prefix;
            if (SUPPORTED_IN_TUTORIAL.contains(n)) {
                assertTrue(messages.stream().noneMatch(w -> w.contains(": " + n + "=")), n + " warned: " + messages);
                continue;
            } else if (n.equals("relay")) {
                prefix = "unused parameter: relay=";
            } else {
                prefix = "parameter not supported yet: " + n + "=";
            }
            assertEquals(1, messages.stream().filter(w -> w.startsWith(prefix)).count(), prefix + " in " + messages);
        }
        ConfigWarning relay = s.warnings().stream().filter(w -> w.message().startsWith("unused parameter: relay="))
                .findFirst().orElseThrow();
        assertEquals(16, relay.line());
        assertEquals(dir.resolve("main.cf").toString() + ", line 16: unused parameter: relay=", relay.toString());
        assertEquals(names.size() - SUPPORTED_IN_TUTORIAL.size(), messages.size(), messages.toString());
    }

    @Test
    void referencedUserParameterIsNotUnused() throws Exception {
        ConfigSnapshot s = ConfigLoader.load(TestDirs.write(dir,
                "relay = mx.example.org\nmyorigin = [$relay]\nlonely = 1\nsmtpd_restriction_classes = cls\ncls = x\n",
                ""), dir);
        List<String> messages = s.warnings().stream().map(ConfigWarning::message).toList();
        assertTrue(messages.contains("unused parameter: lonely=1"), messages.toString());
        // smtpd_restriction_classes is supported (bundle restrictions): no warning, and the class it names is used
        assertTrue(messages.stream().noneMatch(w -> w.contains("smtpd_restriction_classes")), messages.toString());
        assertTrue(messages.stream().noneMatch(w -> w.contains("relay=") || w.contains("cls=x")), messages.toString());
        assertEquals("[mx.example.org]", s.value("myorigin"));
    }

    @Test
    void perServiceParametersFromMasterCfAreKnownToPostfix() throws Exception {
        ConfigSnapshot s = ConfigLoader.load(TestDirs.write(dir, "relay_destination_rate_delay = 1s\nfoo_destination_rate_delay = 1s\n",
                "relay unix - - n - - smtp\n"), dir);
        List<String> messages = s.warnings().stream().map(ConfigWarning::message).toList();
        assertTrue(messages.contains("parameter not supported yet: relay_destination_rate_delay=1s"), messages.toString());
        assertTrue(messages.contains("unused parameter: foo_destination_rate_delay=1s"), messages.toString());
    }
}
