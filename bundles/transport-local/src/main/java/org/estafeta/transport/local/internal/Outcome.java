package org.estafeta.transport.local.internal;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;

/**
 * The result of one delivery step (a mailbox, a file, a command, a forwarded copy, a recipient passed to another
 * transport) with the enhanced status code and the text Postfix logs in {@code status=... (text)}. The SMTP code of
 * local work is not Postfix's (local has none): 250, 450 or 550 by status. A recipient passed to another transport
 * keeps that transport's reply and relay.
 *
 * @param code the reply code; 0 for local work (250, 450 or 550 by status)
 * @param relay the {@code relay=} of a passed recipient; null for local work (the transport's own name)
 */
record Outcome(Status status, String dsn, String text, int code, String relay) {
    static Outcome sent(String text) {
        return new Outcome(Status.DELIVERED, "2.0.0", text, 0, null);
    }

    static Outcome deferred(String dsn, String text) {
        return new Outcome(Status.DEFERRED, dsn, text, 0, null);
    }

    static Outcome bounced(String dsn, String text) {
        return new Outcome(Status.BOUNCED, dsn, text, 0, null);
    }

    /** What another transport made of a recipient passed to it: its status, reply and relay as they are. */
    static Outcome of(RecipientResult r) {
        return new Outcome(r.status(), r.reply().enhancedStatus(), r.reply().text(), r.reply().code(), r.relay());
    }

    /** This outcome with {@code relay=} set (a deferral before the other transport was reached: {@code none}). */
    Outcome via(String newRelay) {
        return new Outcome(status, dsn, text, code, newRelay);
    }

    /** Deferred or bounced by the class of {@code dsn}, as Postfix's mailbox code picks defer_append or bounce_append. */
    static Outcome failed(String dsn, String text) {
        return dsn.charAt(0) == '4' ? deferred(dsn, text) : bounced(dsn, text);
    }

    /**
     * One top-level recipient's fate from the steps its expansion took: any deferral defers it (it is tried again as
     * a whole, as Postfix does), else any bounce bounces it, else it was delivered; a delivery to several places
     * shows each distinct text once, joined by {@code "; "}, with the relay (and reply code) all of them share.
     */
    static Outcome combine(List<Outcome> steps) {
        for (Status s : new Status[] {Status.DEFERRED, Status.BOUNCED}) {
            for (Outcome o : steps) {
                if (o.status == s) {
                    return o;
                }
            }
        }
        if (steps.size() == 1) {
            return steps.get(0);
        }
        List<String> texts = new ArrayList<>();
        java.util.Set<String> relays = new java.util.HashSet<>();
        java.util.Set<Integer> codes = new java.util.HashSet<>();
        for (Outcome o : steps) {
            if (!texts.contains(o.text)) {
                texts.add(o.text);
            }
            relays.add(String.valueOf(o.relay));
            codes.add(o.code);
        }
        String relay = relays.size() == 1 ? steps.get(0).relay : null;
        int code = codes.size() == 1 ? steps.get(0).code : 0;
        return new Outcome(Status.DELIVERED, "2.0.0", String.join("; ", texts), code, relay);
    }

    /** The result for {@code recipient}; {@code relay} is the transport's own name, used for local work. */
    RecipientResult result(String recipient, String relay) {
        int c = code != 0 ? code : switch (status) {
            case DELIVERED -> 250;
            case DEFERRED -> 450;
            case BOUNCED -> 550;
        };
        return new RecipientResult(recipient, status, new Reply(c, dsn, text), this.relay != null ? this.relay : relay);
    }
}
