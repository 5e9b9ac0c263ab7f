package org.estafeta.cleanup.internal;

import java.util.Locale;

import org.estafeta.config.ConfigSnapshot;

/**
 * {@code receive_override_options} of the service a message came in by (smtpd, pickup; typically
 * {@code -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks} on a content filter's
 * reinjection listener), as Postfix's input_transp_mask() reads it. Cleanup acts on two of its words:
 * {@code no_address_mappings} (no canonical maps, masquerading, virtual aliases or bcc maps) and
 * {@code no_header_body_checks} (no header_checks, mime_header_checks, nested_header_checks or body_checks).
 * {@code no_unknown_recipient_checks} is smtpd's; {@code no_milters} belongs to whatever runs milters, not to cleanup.
 *
 * <p>Immutable; {@link #from} throws {@link IllegalArgumentException} for a word Postfix does not know (Postfix's
 * smtpd stops with a fatal error then; cleanup refuses the message with 451 so that nothing passes unchecked).
 */
record ReceiveOverrides(boolean noUnknownRecipientChecks, boolean noAddressMappings, boolean noHeaderBodyChecks,
        boolean noMilters) {
    static final ReceiveOverrides NONE = new ReceiveOverrides(false, false, false, false);

    static ReceiveOverrides from(ConfigSnapshot c) {
        String value = c.get("receive_override_options").orElse("").strip();
        boolean unknownRcpt = false;
        boolean mappings = false;
        boolean checks = false;
        boolean milters = false;
        for (String word : value.split("[\\s,]+")) {
            switch (word.toLowerCase(Locale.ROOT)) {
                case "" -> {
                }
                case "no_unknown_recipient_checks" -> unknownRcpt = true;
                case "no_address_mappings" -> mappings = true;
                case "no_header_body_checks" -> checks = true;
                case "no_milters" -> milters = true;
                default -> throw new IllegalArgumentException(
                        "unknown receive_override_options value \"" + word + "\" in \"" + value + "\"");
            }
        }
        return new ReceiveOverrides(unknownRcpt, mappings, checks, milters);
    }
}
