package org.estafeta.sasl.internal;

import java.io.IOException;

/** A malformed password file, with the file and line in Postfix's shape: {@code /etc/estafeta/sasldb, line 3: why}. */
public final class SaslDbFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public SaslDbFormatException(String file, int line, String why) {
        super(file + ", line " + line + ": " + why);
    }
}
