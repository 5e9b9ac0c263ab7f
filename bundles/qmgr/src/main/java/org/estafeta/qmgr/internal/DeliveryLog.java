package org.estafeta.qmgr.internal;

import java.util.Locale;

import org.estafeta.api.transport.RecipientResult;

/**
 * The delivery agents' status line in Postfix's shape:
 * {@code ID: to=<rcpt>, orig_to=<orig>, relay=host[addr]:port, delay=1.2, delays=0.1/0/0.5/0.6, dsn=2.0.0,
 * status=sent (250 2.0.0 Ok)}, which pflogsumm and people's grep habits read.
 */
final class DeliveryLog {
    private DeliveryLog() {
    }

    /**
     * @param beforeActive seconds from arrival until the message entered the active queue (Postfix's delays a)
     * @param inQueueManager seconds from entering the active queue until the delivery started (b)
     * @param delivery seconds the transport took (c and d: Estafeta does not split connection set-up from
     *        transmission, so c is 0 and d is the whole delivery)
     */
    static String line(String queueId, String recipient, String originalRecipient, RecipientResult r,
            double beforeActive, double inQueueManager, double delivery) {
        StringBuilder sb = new StringBuilder(160);
        sb.append(queueId).append(": to=<").append(recipient).append('>');
        if (originalRecipient != null && !originalRecipient.isEmpty() && !originalRecipient.equalsIgnoreCase(recipient)) {
            sb.append(", orig_to=<").append(originalRecipient).append('>');
        }
        sb.append(", relay=").append(r.relay());
        double total = beforeActive + inQueueManager + delivery;
        sb.append(", delay=").append(seconds(total));
        sb.append(", delays=").append(seconds(beforeActive)).append('/').append(seconds(inQueueManager)).append("/0/")
                .append(seconds(delivery));
        sb.append(", dsn=").append(r.reply().enhancedStatus());
        sb.append(", status=").append(status(r.status())).append(" (").append(reason(r)).append(')');
        return sb.toString();
    }

    static String status(RecipientResult.Status s) {
        return switch (s) {
            case DELIVERED -> "sent";
            case DEFERRED -> "deferred";
            case BOUNCED -> "bounced";
        };
    }

    /**
     * What goes between the parentheses: the reply's text, which the transport words exactly as Postfix's agent
     * logs it ({@code 250 2.0.0 Ok: queued as X}, {@code host mx[192.0.2.1] said: 550 ...}, {@code connect to ...},
     * {@code delivered via filtro service}).
     */
    static String reason(RecipientResult r) {
        return r.reply().text();
    }

    /**
     * Postfix's delay format with {@code delay_logging_resolution_limit = 2}: whole seconds from 10 s on, else at
     * most two digits after the point with trailing zeros dropped; {@code 0} below 0.01 s.
     */
    static String seconds(double s) {
        if (s >= 10) {
            return Long.toString(Math.round(s));
        }
        String v = trim(String.format(Locale.ROOT, "%.2f", Math.max(0.0, s)));
        return v.isEmpty() ? "0" : v;
    }

    private static String trim(String v) {
        if (v.indexOf('.') < 0) {
            return v;
        }
        v = v.replaceAll("0+$", "");
        return v.endsWith(".") ? v.substring(0, v.length() - 1) : v;
    }
}
