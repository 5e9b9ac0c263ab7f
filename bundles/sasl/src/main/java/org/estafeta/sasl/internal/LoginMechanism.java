package org.estafeta.sasl.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
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
 * LOGIN (draft-murchison-sasl-login): the challenges {@code Username:} and {@code Password:}, as Cyrus sends
 * them; an initial response is the user name. The password is checked against the user's SCRAM-SHA-256
 * verifier.
 *
 * <p>Thread-safe; each exchange belongs to one session. A password file that cannot be read makes
 * {@link SaslExchange#respond} throw {@link IOException}.
 */
@Component(property = SaslMechanism.NAME + "=" + LoginMechanism.NAME)
public final class LoginMechanism implements SaslMechanism {
    static final String NAME = "LOGIN";
    static final byte[] USERNAME = "Username:".getBytes(StandardCharsets.US_ASCII);
    static final byte[] PASSWORD = "Password:".getBytes(StandardCharsets.US_ASCII);
    private final SaslDbFiles files;

    @Activate
    public LoginMechanism(@Reference SaslDbFiles files) {
        this.files = files;
    }

    @Override
    public boolean plaintext() {
        return true;
    }

    @Override
    public SaslExchange start(ClientInfo client, PluginContext context) {
        return new SaslExchange() {
            private int step;
            private String name;

            @Override
            public SaslStep respond(byte[] response) throws IOException {
                switch (step++) {
                    case 0 -> {
                        if (response == null) {
                            return new SaslStep.Challenge(USERNAME);
                        }
                        step++;
                        return userName(response);
                    }
                    case 1 -> {
                        return userName(response);
                    }
                    case 2 -> {
                        if (response == null) {
                            return Failures.protocol(context, NAME, "no password");
                        }
                        try {
                            String user = Users.canonical(name, context);
                            String[] why = new String[1];
                            if (!PasswordCheck.verify(files, context, user, response, why)) {
                                return Failures.authentication(context, NAME, why[0]);
                            }
                            return new SaslStep.Success(user);
                        } finally {
                            Arrays.fill(response, (byte) 0);
                        }
                    }
                    default -> {
                        return Failures.protocol(context, NAME, "exchange already finished");
                    }
                }
            }

            private SaslStep userName(byte[] response) {
                if (response == null) {
                    step = 3;
                    return Failures.protocol(context, NAME, "no user name");
                }
                name = PasswordCheck.utf8(response);
                if (name == null || name.isEmpty()) {
                    step = 3;
                    return name == null ? Failures.protocol(context, NAME, "user name is not UTF-8")
                            : Failures.authentication(context, NAME, "empty user name");
                }
                return new SaslStep.Challenge(PASSWORD);
            }
        };
    }
}
