package org.estafeta.tls.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.estafeta.config.ConfigValues;

/**
 * Postfix's cipher grades and exclusions ({@code smtpd_tls_ciphers}, {@code smtpd_tls_exclude_ciphers} and their
 * {@code mandatory} twins) over the JSSE suites. Every suite JSSE enables by default is of OpenSSL's HIGH grade
 * (128 bits or more, no RC4, DES or export ciphers), so {@code export}, {@code low}, {@code medium} and
 * {@code high} all mean JSSE's defaults and {@code null} means none; exclusions use OpenSSL's names for the
 * algorithms ({@code aNULL}, {@code RC4}, {@code 3DES}, {@code SHA1}, {@code AES128}, {@code CAMELLIA},
 * {@code kRSA} ...) and remove the TLS 1.2 suites that use them. TLS 1.3's suites are not touched, as OpenSSL's
 * cipher lists do not touch them either.
 */
final class CipherSuites {
    private CipherSuites() {
    }

    /** The suites to enable; empty for JSSE's defaults. IllegalArgumentException names the parameter for a bad grade. */
    static List<String> select(String parameter, String grade, String exclude, List<String> defaults) {
        switch (grade.toLowerCase(Locale.ROOT)) {
            case "export", "low", "medium", "high", "" -> {
                // every JSSE default is HIGH
            }
            case "null" -> throw new IllegalArgumentException(parameter + " = null: unauthenticated, unencrypted TLS is not supported");
            default -> throw new IllegalArgumentException("invalid " + parameter + " value: \"" + grade
                    + "\" (specify export, low, medium or high)");
        }
        List<String> tokens = ConfigValues.list(exclude);
        if (tokens.isEmpty()) {
            return List.of();
        }
        List<String> kept = new ArrayList<>();
        for (String suite : defaults) {
            if (suite.startsWith("TLS_") && !suite.contains("_WITH_") || tokens.stream().noneMatch(t -> uses(suite, t))) {
                kept.add(suite);
            }
        }
        return kept;
    }

    /** Whether a TLS 1.2 suite uses the algorithm OpenSSL's name stands for. */
    static boolean uses(String suite, String token) {
        String t = token.toUpperCase(Locale.ROOT);
        return switch (t) {
            case "ANULL", "ADH", "AECDH" -> suite.contains("_anon_") || suite.contains("_ANON_");
            case "ENULL", "NULL" -> suite.contains("_WITH_NULL_");
            case "RC4" -> suite.contains("_RC4_");
            case "DES" -> suite.contains("_DES_");
            case "3DES" -> suite.contains("_3DES_");
            case "MD5" -> suite.endsWith("_MD5");
            case "SHA1", "SHA" -> suite.endsWith("_SHA");
            case "SHA256" -> suite.endsWith("_SHA256");
            case "SHA384" -> suite.endsWith("_SHA384");
            case "AES128" -> suite.contains("_AES_128_");
            case "AES256" -> suite.contains("_AES_256_");
            case "AES" -> suite.contains("_AES_");
            case "AESGCM" -> suite.contains("_GCM_");
            case "AESCCM" -> suite.contains("_CCM");
            case "CHACHA20" -> suite.contains("CHACHA20");
            case "CAMELLIA" -> suite.contains("CAMELLIA");
            case "ARIA" -> suite.contains("ARIA");
            case "KRSA", "RSA" -> t.equals("KRSA") ? suite.startsWith("TLS_RSA_") : suite.contains("RSA");
            case "DHE", "EDH", "KDHE", "KEDH" -> suite.startsWith("TLS_DHE_");
            case "ECDHE", "EECDH", "KECDHE", "KEECDH" -> suite.startsWith("TLS_ECDHE_");
            case "ECDSA", "AECDSA" -> suite.contains("_ECDSA_");
            case "DSS", "ADSS" -> suite.contains("_DSS_");
            case "PSK" -> suite.contains("PSK");
            default -> suite.contains("_" + t + "_") || suite.endsWith("_" + t);
        };
    }
}
