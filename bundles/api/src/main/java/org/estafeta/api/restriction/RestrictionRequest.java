package org.estafeta.api.restriction;

import java.util.List;
import java.util.Objects;
import org.estafeta.api.message.ClientInfo;

/**
 * The state of an SMTP session at the moment a restriction list is evaluated.
 *
 * @param stage which smtpd_*_restrictions list is being evaluated
 * @param client the client, with its HELO name once known
 * @param sender the MAIL FROM address once known, else empty ({@code <>} is also empty: see {@code stage})
 * @param recipient the RCPT TO address being evaluated, else empty
 * @param arguments the words that follow the restriction's name in main.cf (for example the domain of
 *        {@code reject_rbl_client zen.example.org})
 */
public record RestrictionRequest(Stage stage, ClientInfo client, String sender, String recipient, List<String> arguments) {
    public enum Stage {
        CLIENT, HELO, SENDER, RECIPIENT, DATA, END_OF_DATA
    }

    public RestrictionRequest {
        Objects.requireNonNull(stage, "stage");
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(sender, "sender");
        Objects.requireNonNull(recipient, "recipient");
        arguments = List.copyOf(arguments);
    }
}
