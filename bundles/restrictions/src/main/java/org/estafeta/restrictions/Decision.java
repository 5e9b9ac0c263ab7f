package org.estafeta.restrictions;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

import org.estafeta.api.message.Reply;
import org.estafeta.cleanup.Submission;

/**
 * What a restriction list decided.
 *
 * @param kind {@link Kind#OK} (a restriction permitted: {@code permit}, {@code OK}, {@code permit_mynetworks} ...),
 *        {@link Kind#REJECT} (a 5xx {@code reply}), {@link Kind#DEFER} (a 4xx {@code reply}), or {@link Kind#DUNNO}
 *        (the list ran out without a decision: the command is accepted, as in Postfix)
 * @param reply the reply to send for REJECT and DEFER, as Postfix words it
 *        ({@code 554 5.7.1 <x@example.org>: Relay access denied}); empty for OK and DUNNO
 * @param actions the access(5) actions decided so far in the mail transaction (the facts' actions plus this list's
 *        HOLD, DISCARD, FILTER, REDIRECT, PREPEND); a DISCARD means: accept, then throw the message away, and
 *        evaluate no further restrictions for it
 * @param deferIfPermit a pending {@code defer_if_permit} (from a DNS temporary failure or the restriction of that
 *        name) that a later stage must turn into this 4xx reply unless it rejects: pass it into the next stage's
 *        {@link SessionFacts#deferIfPermit()}. At RCPT, DATA and END-OF-DATA the engine has already applied it.
 * @param logLines the lines Postfix's smtpd logs at info level for this evaluation, complete and in order
 *        ({@code NOQUEUE: reject: RCPT from host[1.2.3.4]: 554 5.7.1 <x@y>: Relay access denied; from=<a@b> to=<x@y>
 *        proto=ESMTP helo=<h>}, also {@code reject_warning:}, {@code hold:}, {@code discard:}, {@code filter:},
 *        {@code redirect:}); the caller writes them to its {@code smtpd} logger. Warnings about the configuration
 *        ({@code warning: unknown smtpd restriction: "x"}) the engine logs itself.
 */
public record Decision(Kind kind, Optional<Reply> reply, Submission.Actions actions, Optional<Reply> deferIfPermit,
        List<String> logLines) {

    public enum Kind {
        OK, REJECT, DEFER, DUNNO
    }

    public Decision {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(reply, "reply");
        Objects.requireNonNull(actions, "actions");
        Objects.requireNonNull(deferIfPermit, "deferIfPermit");
        logLines = List.copyOf(logLines);
        switch (kind) {
            case REJECT -> {
                if (reply.isEmpty() || !reply.get().isPermanent()) {
                    throw new IllegalArgumentException("REJECT needs a 5xx reply: " + reply);
                }
            }
            case DEFER -> {
                if (reply.isEmpty() || !reply.get().isTransient()) {
                    throw new IllegalArgumentException("DEFER needs a 4xx reply: " + reply);
                }
            }
            default -> {
                if (reply.isPresent()) {
                    throw new IllegalArgumentException(kind + " has no reply: " + reply.get());
                }
            }
        }
    }

    /** Whether the command is refused (REJECT or DEFER). */
    public boolean refused() {
        return kind == Kind.REJECT || kind == Kind.DEFER;
    }

    /** The {@code NOQUEUE: reject: ...} line of a refusal, when there is one. */
    public Optional<String> rejectLogLine() {
        return logLines.stream().filter(l -> l.contains(": reject: ")).reduce((a, b) -> b);
    }
}
