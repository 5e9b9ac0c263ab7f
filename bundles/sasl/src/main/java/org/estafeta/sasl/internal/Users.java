package org.estafeta.sasl.internal;

import java.io.IOException;
import java.util.Optional;
import org.estafeta.api.plugin.PluginContext;

/**
 * Finding the user of an exchange: the name a client gives is qualified with the realm
 * ({@code smtpd_sasl_local_domain}, which the back end sets from the session) when it has no {@code @}, as
 * Cyrus's canonicalisation does, and looked up in the password file.
 */
final class Users {
    static final String REALM_PARAMETER = "smtpd_sasl_local_domain";

    private Users() {
    }

    /** {@code name@realm} when {@code name} has no {@code @} and the realm is set, else {@code name}. */
    static String canonical(String name, PluginContext context) {
        String realm = context.parameter(REALM_PARAMETER).map(String::trim).orElse("");
        return name.indexOf('@') >= 0 || realm.isEmpty() ? name : name + "@" + realm;
    }

    /** The entry of {@code canonical}, empty when there is none. */
    static Optional<SaslDb.Entry> find(SaslDbFiles files, PluginContext context, String canonical)
            throws IOException {
        return files.current(context).get(canonical);
    }
}
