package org.estafeta.milter;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The main.cf milter parameters shared by all milters of a list (a {@link MilterSpec} may override the timeouts, the
 * default action and the protocol). Immutable; read it from each configuration snapshot with {@link #from}.
 *
 * @param connectTimeout {@code milter_connect_timeout} (30s): connect and SMFIC_OPTNEG's reply
 * @param commandTimeout {@code milter_command_timeout} (30s): each reply to CONNECT, HELO, MAIL, RCPT, DATA
 * @param contentTimeout {@code milter_content_timeout} (300s): each reply to a header, end of headers, a body
 *     chunk and the end of the message
 * @param defaultAction {@code milter_default_action} (tempfail)
 * @param protocol {@code milter_protocol} (6): a version and optionally {@code no_header_reply}
 * @param macros the {@code milter_*_macros} lists
 * @param macroDefaults {@code milter_macro_defaults}: values for macros the session does not define
 * @param daemonName {@code milter_macro_daemon_name} ($myhostname): the value of {@code {daemon_name}}
 * @param macroV {@code milter_macro_v} ($mail_name $mail_version): the value of {@code v}
 */
public record MilterSettings(Duration connectTimeout, Duration commandTimeout, Duration contentTimeout,
        DefaultAction defaultAction, String protocol, MilterMacros macros, Map<String, String> macroDefaults,
        String daemonName, String macroV) {

    public static final String MILTER_CONNECT_TIMEOUT = "milter_connect_timeout";
    public static final String MILTER_COMMAND_TIMEOUT = "milter_command_timeout";
    public static final String MILTER_CONTENT_TIMEOUT = "milter_content_timeout";
    public static final String MILTER_DEFAULT_ACTION = "milter_default_action";
    public static final String MILTER_PROTOCOL = "milter_protocol";
    public static final String MILTER_CONNECT_MACROS = "milter_connect_macros";
    public static final String MILTER_HELO_MACROS = "milter_helo_macros";
    public static final String MILTER_MAIL_MACROS = "milter_mail_macros";
    public static final String MILTER_RCPT_MACROS = "milter_rcpt_macros";
    public static final String MILTER_DATA_MACROS = "milter_data_macros";
    public static final String MILTER_END_OF_HEADER_MACROS = "milter_end_of_header_macros";
    public static final String MILTER_END_OF_DATA_MACROS = "milter_end_of_data_macros";
    public static final String MILTER_UNKNOWN_COMMAND_MACROS = "milter_unknown_command_macros";
    public static final String MILTER_MACRO_DEFAULTS = "milter_macro_defaults";
    public static final String MILTER_MACRO_DAEMON_NAME = "milter_macro_daemon_name";
    public static final String MILTER_MACRO_V = "milter_macro_v";
    public static final String SMTPD_MILTERS = "smtpd_milters";
    public static final String NON_SMTPD_MILTERS = "non_smtpd_milters";

    public MilterSettings {
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        Objects.requireNonNull(commandTimeout, "commandTimeout");
        Objects.requireNonNull(contentTimeout, "contentTimeout");
        Objects.requireNonNull(defaultAction, "defaultAction");
        ProtocolVersion.parse(MILTER_PROTOCOL, protocol);
        Objects.requireNonNull(macros, "macros");
        macroDefaults = Map.copyOf(macroDefaults);
        Objects.requireNonNull(daemonName, "daemonName");
        Objects.requireNonNull(macroV, "macroV");
    }

    /** Postfix's defaults (with empty {@code {daemon_name}} and {@code v}: those come from main.cf). */
    public static MilterSettings defaults() {
        return new MilterSettings(Duration.ofSeconds(30), Duration.ofSeconds(30), Duration.ofSeconds(300),
                DefaultAction.TEMPFAIL, "6", MilterMacros.POSTFIX_DEFAULTS, Map.of(), "", "");
    }

    /**
     * Reads the parameters through {@code parameters} (name to expanded value; empty when unset, then Postfix's
     * default applies). Throws {@link IllegalArgumentException} naming the parameter for a bad value.
     */
    public static MilterSettings from(Function<String, Optional<String>> parameters) {
        MilterSettings d = defaults();
        Function<String, Optional<String>> p = n -> parameters.apply(n).map(String::strip);
        MilterMacros m = d.macros();
        m = new MilterMacros(list(p, MILTER_CONNECT_MACROS, m.connect()), list(p, MILTER_HELO_MACROS, m.helo()),
                list(p, MILTER_MAIL_MACROS, m.mail()), list(p, MILTER_RCPT_MACROS, m.rcpt()),
                list(p, MILTER_DATA_MACROS, m.data()), list(p, MILTER_END_OF_HEADER_MACROS, m.endOfHeaders()),
                list(p, MILTER_END_OF_DATA_MACROS, m.endOfData()),
                list(p, MILTER_UNKNOWN_COMMAND_MACROS, m.unknownCommand()));
        return new MilterSettings(
                p.apply(MILTER_CONNECT_TIMEOUT).filter(v -> !v.isEmpty())
                        .map(v -> org.estafeta.filter.support.TimeValue.duration(MILTER_CONNECT_TIMEOUT, v)).orElse(d.connectTimeout()),
                p.apply(MILTER_COMMAND_TIMEOUT).filter(v -> !v.isEmpty())
                        .map(v -> org.estafeta.filter.support.TimeValue.duration(MILTER_COMMAND_TIMEOUT, v)).orElse(d.commandTimeout()),
                p.apply(MILTER_CONTENT_TIMEOUT).filter(v -> !v.isEmpty())
                        .map(v -> org.estafeta.filter.support.TimeValue.duration(MILTER_CONTENT_TIMEOUT, v)).orElse(d.contentTimeout()),
                p.apply(MILTER_DEFAULT_ACTION).filter(v -> !v.isEmpty())
                        .map(v -> DefaultAction.parse(MILTER_DEFAULT_ACTION, v)).orElse(d.defaultAction()),
                p.apply(MILTER_PROTOCOL).filter(v -> !v.isEmpty()).orElse(d.protocol()), m,
                macroDefaults(p.apply(MILTER_MACRO_DEFAULTS).orElse("")),
                p.apply(MILTER_MACRO_DAEMON_NAME).orElse(""), p.apply(MILTER_MACRO_V).orElse(""));
    }

    private static java.util.List<String> list(Function<String, Optional<String>> p, String name,
            java.util.List<String> fallback) {
        // an explicitly empty list means "send none", as in Postfix
        return p.apply(name).map(MilterMacros::names).orElse(fallback);
    }

    /**
     * {@code name=value} pairs separated by commas or white space; {@code { name = value with spaces }} groups (the
     * brace followed by white space).
     */
    static Map<String, String> macroDefaults(String value) {
        Map<String, String> out = new LinkedHashMap<>();
        int i = 0;
        while (i < value.length()) {
            char c = value.charAt(i);
            if (c == ',' || Character.isWhitespace(c)) {
                i++;
                continue;
            }
            String item;
            if (c == '{' && (i + 1 == value.length() || Character.isWhitespace(value.charAt(i + 1)))) {
                // "{ name = value with spaces }"; a brace right before a name is part of it, e.g. {auth_type}=x
                int close = value.indexOf('}', i);
                if (close < 0) {
                    throw new IllegalArgumentException(MILTER_MACRO_DEFAULTS + ": missing '}' in: " + value.substring(i));
                }
                item = value.substring(i + 1, close);
                i = close + 1;
            } else {
                int end = i;
                while (end < value.length() && value.charAt(end) != ',' && !Character.isWhitespace(value.charAt(end))) {
                    end++;
                }
                item = value.substring(i, end);
                i = end;
            }
            int eq = item.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(MILTER_MACRO_DEFAULTS + ": missing '=' after attribute name: "
                        + item.strip());
            }
            out.put(item.substring(0, eq).strip(), item.substring(eq + 1).strip());
        }
        return out;
    }

    /** The effective protocol of {@code spec}. */
    ProtocolVersion protocolOf(MilterSpec spec) {
        return ProtocolVersion.parse(spec.protocol().isPresent() ? spec.address() + ": protocol" : MILTER_PROTOCOL,
                spec.protocol().orElse(protocol));
    }
}
