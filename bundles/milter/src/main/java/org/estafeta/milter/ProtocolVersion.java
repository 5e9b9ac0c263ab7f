package org.estafeta.milter;

import java.util.Locale;

/**
 * A parsed {@code milter_protocol} value: one version (2, 3, 4 or 6) and optional extensions (only
 * {@code no_header_reply}), separated by commas or spaces, as Postfix's milter8 reads it.
 *
 * @param version the version sent in SMFIC_OPTNEG
 * @param events the protocol flags this client may offer for that version (and extensions)
 */
record ProtocolVersion(int version, int events) {
    static ProtocolVersion parse(String parameter, String value) {
        int version = 0;
        int events = 0;
        for (String name : value.strip().split("[,\\s]+")) {
            if (name.isEmpty()) {
                continue;
            }
            switch (name.toLowerCase(Locale.ROOT)) {
                case "2", "3", "4", "6" -> {
                    if (version != 0) {
                        throw new IllegalArgumentException(parameter + ": bad protocol information: " + name);
                    }
                    version = Integer.parseInt(name);
                    events |= Protocol.versionMask(version);
                }
                case "no_header_reply" -> events |= Protocol.P_NR_HDR;
                default -> throw new IllegalArgumentException(parameter + ": bad protocol information: " + name);
            }
        }
        if (version == 0) {
            throw new IllegalArgumentException(parameter + ": no protocol version information: " + value.strip());
        }
        return new ProtocolVersion(version, events);
    }
}
