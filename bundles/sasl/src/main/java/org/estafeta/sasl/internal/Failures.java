package org.estafeta.sasl.internal;

import org.estafeta.api.message.Reply;
import org.estafeta.api.plugin.PluginContext;
import org.estafeta.api.sasl.SaslStep;

/**
 * The failure replies of the built-in mechanisms: Postfix's {@code 535 5.7.8 Error: authentication failed: }
 * followed by Cyrus SASL's text for the error, as Postfix with {@code smtpd_sasl_type = cyrus} answers. An unknown
 * user gets the same reply as a wrong password (Cyrus turns {@code SASL_NOUSER} into {@code SASL_BADAUTH}). The
 * detail goes to the log at info level, as Postfix logs Cyrus's {@code SASL authentication failure: ...} lines;
 * it never contains what the client sent.
 */
final class Failures {
    /** Cyrus's SASL_BADAUTH: wrong password, unknown user, no secret for the mechanism. */
    static final String AUTHENTICATION = "authentication failure";
    /** Cyrus's SASL_NOAUTHZ: an authorization identity other than the authenticated user. */
    static final String AUTHORIZATION = "authorization failure";
    /** Cyrus's SASL_BADPROT: malformed client input. */
    static final String PROTOCOL = "bad protocol / cancel";

    private Failures() {
    }

    static SaslStep.Failure fail(PluginContext context, String mechanism, String reason, String detail) {
        context.logger().log(System.Logger.Level.INFO, "SASL authentication failure: " + mechanism + ": " + detail);
        return new SaslStep.Failure(new Reply(535, "5.7.8", "Error: authentication failed: " + reason));
    }

    static SaslStep.Failure authentication(PluginContext context, String mechanism, String detail) {
        return fail(context, mechanism, AUTHENTICATION, detail);
    }

    static SaslStep.Failure protocol(PluginContext context, String mechanism, String detail) {
        return fail(context, mechanism, PROTOCOL, detail);
    }

    static SaslStep.Failure authorization(PluginContext context, String mechanism, String detail) {
        return fail(context, mechanism, AUTHORIZATION, detail);
    }
}
