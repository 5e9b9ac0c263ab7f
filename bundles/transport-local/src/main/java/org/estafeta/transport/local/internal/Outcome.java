package org.estafeta.transport.local.internal;

import java.util.ArrayList;
import java.util.List;

import org.estafeta.api.message.Reply;
import org.estafeta.api.transport.RecipientResult;
import org.estafeta.api.transport.RecipientResult.Status;

/**
 * The result of one delivery step (a mailbox, a file, a command, a forwarded copy) with the enhanced status code and
 * the text Postfix logs in {@code status=... (text)}. The SMTP code is not Postfix's (local has none): 250, 450 or
 * 550 by status.
 */
record Outcome(Status status, String dsn, String text) {
    static Outcome sent(String text) {
        return new Outcome(Status.DELIVERED, "2.0.0", text);
    }

    static Outcome deferred(String dsn, String text) {
        return new Outcome(Status.DEFERRED, dsn, text);
    }

    static Outcome bounced(String dsn, String text) {
        return new Outcome(Status.BOUNCED, dsn, text);
    }

    /** Deferred or bounced by the class of {@code dsn}, as Postfix's mailbox code picks defer_append or bounce_append. */
    static Outcome failed(String dsn, String text) {
        return dsn.charAt(0) == '4' ? deferred(dsn, text) : bounced(dsn, text);
    }

    /**
     * One top-level recipient's fate from the steps its expansion took: any deferral defers it (it is tried again as
     * a whole, as Postfix does), else any bounce bounces it, else it was delivered; a delivery to several places
     * shows each distinct text once, joined by {@code "; "}.
     */
    static Outcome combine(List<Outcome> steps) {
        for (Status s : new Status[] {Status.DEFERRED, Status.BOUNCED}) {
            for (Outcome o : steps) {
                if (o.status == s) {
                    return o;
                }
            }
        }
        List<String> texts = new ArrayList<>();
        for (Outcome o : steps) {
            if (!texts.contains(o.text)) {
                texts.add(o.text);
            }
        }
        return sent(String.join("; ", texts));
    }

    RecipientResult result(String recipient, String relay) {
        int code = switch (status) {
            case DELIVERED -> 250;
            case DEFERRED -> 450;
            case BOUNCED -> 550;
        };
        return new RecipientResult(recipient, status, new Reply(code, dsn, text), relay);
    }
}
