package org.estafeta.bounce.internal;

import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

import org.estafeta.config.ConfigSnapshot;
import org.estafeta.config.ConfigValues;

/**
 * The parameters the bounce service reads, taken from one snapshot.
 *
 * @param myhostname {@code Reporting-MTA}, the MAILER-DAEMON address, the double-bounce address, the boundary
 * @param mailName {@code mail_name}, made an RFC 822 atom for {@code X-<mail_name>-Queue-ID} and the diagnostic type
 * @param notifyClasses {@code notify_classes}, lower-cased
 * @param bounceRecipient {@code bounce_notice_recipient}
 * @param doubleBounceRecipient {@code 2bounce_notice_recipient}
 * @param delayRecipient {@code delay_notice_recipient}
 * @param doubleBounceSender {@code double_bounce_sender} (the local part; Postfix appends {@code @$myhostname})
 * @param sizeLimit {@code bounce_size_limit}; 0 returns the original whatever its size
 * @param smtputf8Enable {@code smtputf8_enable} (default yes): report parts are declared 8bit, as Postfix does
 */
record BounceSettings(String myhostname, String mailName, Set<String> notifyClasses, String bounceRecipient,
        String doubleBounceRecipient, String delayRecipient, String doubleBounceSender, long sizeLimit,
        boolean smtputf8Enable) {

    static BounceSettings from(ConfigSnapshot c) {
        return new BounceSettings(c.value("myhostname"), atom(c.value("mail_name")),
                c.list("notify_classes").stream().map(v -> v.toLowerCase(Locale.ROOT)).collect(Collectors.toSet()),
                c.value("bounce_notice_recipient"), c.value("2bounce_notice_recipient"),
                c.value("delay_notice_recipient"), c.value("double_bounce_sender"), c.integer("bounce_size_limit"),
                c.get("smtputf8_enable").map(v -> ConfigValues.bool("smtputf8_enable", v)).orElse(true));
    }

    /** {@code double_bounce_sender@$myhostname}: the envelope sender of postmaster notices. */
    String doubleBounceAddress() {
        return doubleBounceSender + "@" + myhostname;
    }

    /** Whether {@code address} is the double-bounce address, qualified or not. */
    boolean isDoubleBounce(String address) {
        return address.equalsIgnoreCase(doubleBounceAddress()) || address.equalsIgnoreCase(doubleBounceSender);
    }

    /** Postfix's translit of {@code mail_name} into an RFC 822 atom. */
    static String atom(String name) {
        StringBuilder sb = new StringBuilder(name.length());
        for (char ch : name.toCharArray()) {
            sb.append(" \t\r\n()<>@,;:\\\".[]".indexOf(ch) >= 0 ? '-' : ch);
        }
        return sb.toString();
    }
}
