package org.estafeta.tls.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** smtpd_tls_ciphers grades and smtpd_tls_exclude_ciphers over JSSE suite names. */
class CipherSuitesTest {
    static final List<String> DEFAULTS = List.of("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_RSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_RSA_WITH_3DES_EDE_CBC_SHA");

    @Test
    void everyGradeIsTheJsseDefaultsAndNullIsRefused() {
        for (String grade : List.of("export", "low", "medium", "high", "HIGH")) {
            assertEquals(List.of(), CipherSuites.select("smtpd_tls_ciphers", grade, "", DEFAULTS), grade);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CipherSuites.select("smtpd_tls_ciphers", "null", "", DEFAULTS));
        assertTrue(e.getMessage().startsWith("smtpd_tls_ciphers = null"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> CipherSuites.select("smtpd_tls_mandatory_ciphers", "strong", "", DEFAULTS));
        assertEquals("invalid smtpd_tls_mandatory_ciphers value: \"strong\" (specify export, low, medium or high)",
                e.getMessage());
    }

    @Test
    void exclusionsRemoveTls12SuitesByOpensslNameAndLeaveTls13Alone() {
        List<String> kept = CipherSuites.select("smtpd_tls_exclude_ciphers", "medium", "3DES, SHA1, kRSA", DEFAULTS);
        assertEquals(List.of("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), kept);
        List<String> noChacha = CipherSuites.select("smtpd_tls_exclude_ciphers", "medium", "CHACHA20", DEFAULTS);
        assertTrue(noChacha.contains("TLS_CHACHA20_POLY1305_SHA256"), "a TLS 1.3 suite is never excluded");
        assertFalse(noChacha.contains("TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"));
    }
}
