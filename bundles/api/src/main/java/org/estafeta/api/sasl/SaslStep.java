package org.estafeta.api.sasl;

import java.util.Objects;
import org.estafeta.api.message.Reply;

/** The server's answer to one client response in an AUTH exchange. */
public sealed interface SaslStep permits SaslStep.Challenge, SaslStep.Success, SaslStep.Failure {

    /** Send {@code 334} with this challenge (base64-encoded by the gateway) and wait for the next response. */
    record Challenge(byte[] data) implements SaslStep {
        public Challenge {
            data = data.clone();
        }

        @Override
        public byte[] data() {
            return data.clone();
        }
    }

    /** Authentication succeeded as {@code username}; the gateway answers {@code 235 2.7.0}. */
    record Success(String username) implements SaslStep {
        public Success {
            Objects.requireNonNull(username, "username");
        }
    }

    /** Authentication failed; usually {@code 535 5.7.8 Error: authentication failed}. */
    record Failure(Reply reply) implements SaslStep {
        public Failure {
            Objects.requireNonNull(reply, "reply");
        }
    }
}
