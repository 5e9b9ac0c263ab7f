package org.estafeta.sasl.internal;

import java.io.IOException;
import java.util.Arrays;
import org.estafeta.api.message.ClientInfo;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslExchange;
import org.estafeta.api.sasl.SaslMechanism;
import org.estafeta.api.sasl.SaslStep;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * PLAIN (RFC 4616): {@code authzid NUL authcid NUL passwd} in one response, checked against the user's
 * SCRAM-SHA-256 verifier. The authorization identity must be empty or the user's own name (no proxy
 * authorization). Without an initial response the first challenge is empty.
 *
 * <p>Thread-safe; each exchange belongs to one session. A password file that cannot be read makes
 * {@link SaslExchange#respond} throw {@link IOException}.
 */
@Component(property = SaslMechanism.NAME + "=" + PlainMechanism.NAME)
public final class PlainMechanism implements SaslMechanism {
    static final String NAME = "PLAIN";
    private final SaslDbFiles files;

    @Activate
    public PlainMechanism(@Reference SaslDbFiles files) {
        this.files = files;
    }

    @Override
    public boolean plaintext() {
        return true;
    }

    @Override
    public SaslExchange start(ClientInfo client, PluginContext context) {
        return new SaslExchange() {
            private boolean challenged;
            private boolean done;

            @Override
            public SaslStep respond(byte[] response) throws IOException {
                if (done) {
                    return Failures.protocol(context, NAME, "exchange already finished");
                }
                if (response == null && !challenged) {
                    challenged = true;
                    return new SaslStep.Challenge(new byte[0]);
                }
                done = true;
                if (response == null) {
                    return Failures.protocol(context, NAME, "no response");
                }
                return check(response, context);
            }
        };
    }

    private SaslStep check(byte[] r, PluginContext context) throws IOException {
        int nul1 = indexOf(r, 0);
        if (nul1 < 0) {
            return Failures.protocol(context, NAME, "Can only find author (no password)");
        }
        int nul2 = indexOf(r, nul1 + 1);
        if (nul2 < 0) {
            return Failures.protocol(context, NAME, "Can only find author/en (no password)");
        }
        if (indexOf(r, nul2 + 1) >= 0) {
            return Failures.protocol(context, NAME, "Got more data than we were expecting");
        }
        String authzid = PasswordCheck.utf8(Arrays.copyOfRange(r, 0, nul1));
        String authcid = PasswordCheck.utf8(Arrays.copyOfRange(r, nul1 + 1, nul2));
        byte[] password = Arrays.copyOfRange(r, nul2 + 1, r.length);
        try {
            if (authzid == null || authcid == null) {
                return Failures.protocol(context, NAME, "user name is not UTF-8");
            }
            if (authcid.isEmpty()) {
                return Failures.authentication(context, NAME, "empty authentication identity");
            }
            String user = Users.canonical(authcid, context);
            String[] why = new String[1];
            if (!PasswordCheck.verify(files, context, user, password, why)) {
                return Failures.authentication(context, NAME, why[0]);
            }
            if (!authzid.isEmpty() && !authzid.equals(authcid) && !authzid.equals(user)) {
                return Failures.authorization(context, NAME, "authorization identity differs from " + user);
            }
            return new SaslStep.Success(user);
        } finally {
            Arrays.fill(password, (byte) 0);
            Arrays.fill(r, (byte) 0);
        }
    }

    private static int indexOf(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return -1;
    }
}
