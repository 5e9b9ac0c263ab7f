package org.estafeta.smtpd;

import java.util.LinkedHashMap;
import java.util.Map;

import org.estafeta.testing.FakeSnapshot;

/**
 * A {@link FakeSnapshot} holding the registry defaults smtpd reads (Postfix's, already expanded), overridden by the
 * given name/value pairs; {@code smtpd_banner} follows {@code myhostname} as {@code $myhostname ESMTP $mail_name} does.
 */
final class Defaults {
    private Defaults() {
    }

    static FakeSnapshot of(String... pairs) {
        Map<String, String> given = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            given.put(pairs[i], pairs[i + 1]);
        }
        Map<String, String> p = new LinkedHashMap<>();
        p.put("myhostname", "localhost.localdomain");
        p.put("mail_name", "Estafeta");
        p.put("mynetworks", "127.0.0.0/8 [::1]/128");
        p.put("inet_interfaces", "all");
        p.put("default_process_limit", "100");
        p.put("smtpd_timeout", "300s");
        p.put("line_length_limit", "2048");
        p.put("smtpd_helo_required", "no");
        p.put("disable_vrfy_command", "no");
        p.put("message_size_limit", "10240000");
        p.put("smtpd_recipient_limit", "1000");
        p.put("smtpd_recipient_overshoot_limit", "1000");
        p.put("smtpd_soft_error_limit", "10");
        p.put("smtpd_hard_error_limit", "20");
        p.put("smtpd_error_sleep_time", "1s");
        p.put("smtpd_junk_command_limit", "100");
        p.put("smtpd_client_connection_count_limit", "50");
        p.put("smtpd_client_connection_rate_limit", "0");
        p.put("anvil_rate_time_unit", "60s");
        p.put("smtpd_delay_reject", "yes");
        p.put("smtpd_forbid_unauth_pipelining", "yes");
        p.put("smtpd_forbid_bare_newline", "normalize");
        p.put("notify_classes", "resource, software");
        p.put("double_bounce_sender", "double-bounce");
        p.put("error_notice_recipient", "postmaster");
        p.put("bounce_notice_recipient", "postmaster");
        p.put("smtpd_sasl_auth_enable", "no");
        p.put("smtpd_sasl_type", "cyrus");
        p.put("smtpd_sasl_path", "smtpd");
        p.put("smtpd_sasl_service", "smtp");
        p.put("smtpd_sasl_security_options", "noanonymous");
        p.put("smtpd_sasl_local_domain", "");
        p.put("smtpd_sasl_authenticated_header", "no");
        p.put("smtpd_sasl_exceptions_networks", "");
        p.put("smtpd_sasl_response_limit", "12288");
        p.put("broken_sasl_auth_clients", "no");
        p.put("smtpd_tls_auth_only", "no");
        p.put("smtpd_client_auth_rate_limit", "0");
        p.put("smtpd_forbid_bare_newline_reject_code", "550");
        p.put("smtputf8_enable", "yes");
        p.putAll(given);
        p.putIfAbsent("smtpd_banner", p.get("myhostname") + " ESMTP " + p.get("mail_name"));
        p.putIfAbsent("smtpd_sasl_tls_security_options", p.get("smtpd_sasl_security_options"));
        p.putIfAbsent("smtpd_client_event_limit_exceptions", p.get("mynetworks"));
        p.putIfAbsent("smtpd_forbid_bare_newline_exclusions", p.get("mynetworks"));
        return new FakeSnapshot(p);
    }
}
