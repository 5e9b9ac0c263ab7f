package org.estafeta.milter;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The names of the macros sent with each event ({@code milter_*_macros}), e.g. {@code j}, {@code {client_addr}}.
 * A milter may replace a list during negotiation (SMFIR_SETSYMLIST); that applies to its own connection only.
 */
public record MilterMacros(List<String> connect, List<String> helo, List<String> mail, List<String> rcpt,
        List<String> data, List<String> endOfHeaders, List<String> endOfData, List<String> unknownCommand) {

    /** Postfix 3.7's defaults. */
    public static final MilterMacros POSTFIX_DEFAULTS = new MilterMacros(
            names("j {daemon_name} {daemon_addr} v _"),
            names("{tls_version} {cipher} {cipher_bits} {cert_subject} {cert_issuer}"),
            names("i {auth_type} {auth_authen} {auth_author} {mail_addr} {mail_host} {mail_mailer}"),
            names("i {rcpt_addr} {rcpt_host} {rcpt_mailer}"),
            names("i"), names("i"), names("i"), names(""));

    public MilterMacros {
        connect = List.copyOf(connect);
        helo = List.copyOf(helo);
        mail = List.copyOf(mail);
        rcpt = List.copyOf(rcpt);
        data = List.copyOf(data);
        endOfHeaders = List.copyOf(endOfHeaders);
        endOfData = List.copyOf(endOfData);
        unknownCommand = List.copyOf(unknownCommand);
    }

    /** Splits a macro list as Postfix does (commas and white space). */
    public static List<String> names(String value) {
        return Arrays.stream(Objects.requireNonNull(value).strip().split("[,\\s]+")).filter(s -> !s.isEmpty()).toList();
    }

    /** This set with the list of SMFIM type {@code type} (0 connect ... 6 end-of-header) replaced. */
    MilterMacros with(int type, List<String> list) {
        return switch (type) {
            case 0 -> new MilterMacros(list, helo, mail, rcpt, data, endOfHeaders, endOfData, unknownCommand);
            case 1 -> new MilterMacros(connect, list, mail, rcpt, data, endOfHeaders, endOfData, unknownCommand);
            case 2 -> new MilterMacros(connect, helo, list, rcpt, data, endOfHeaders, endOfData, unknownCommand);
            case 3 -> new MilterMacros(connect, helo, mail, list, data, endOfHeaders, endOfData, unknownCommand);
            case 4 -> new MilterMacros(connect, helo, mail, rcpt, list, endOfHeaders, endOfData, unknownCommand);
            case 5 -> new MilterMacros(connect, helo, mail, rcpt, data, endOfHeaders, list, unknownCommand);
            case 6 -> new MilterMacros(connect, helo, mail, rcpt, data, list, endOfData, unknownCommand);
            default -> this;
        };
    }
}
