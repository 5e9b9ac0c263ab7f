package org.estafeta.api.restriction;

import org.estafeta.api.message.Reply;

/**
 * What one restriction decided, as Postfix's access results do: {@link Permit} (OK) ends the list with
 * acceptance, {@link Reject} and {@link Defer} end it with a reply, {@link Dunno} passes to the next restriction.
 */
public sealed interface RestrictionVerdict
        permits RestrictionVerdict.Permit, RestrictionVerdict.Reject, RestrictionVerdict.Defer, RestrictionVerdict.Dunno {

    record Permit() implements RestrictionVerdict {
    }

    record Reject(Reply reply) implements RestrictionVerdict {
        public Reject {
            if (!reply.isPermanent()) {
                throw new IllegalArgumentException("Reject needs a 5xx reply: " + reply);
            }
        }
    }

    record Defer(Reply reply) implements RestrictionVerdict {
        public Defer {
            if (!reply.isTransient()) {
                throw new IllegalArgumentException("Defer needs a 4xx reply: " + reply);
            }
        }
    }

    record Dunno() implements RestrictionVerdict {
    }

    Permit PERMIT = new Permit();
    Dunno DUNNO = new Dunno();
}
